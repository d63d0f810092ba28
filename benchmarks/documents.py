"""Documents (issue 4): decisions rendered, signed and sealed per second on one core, beside
signing an already-rendered PDF (the ceiling); verification latency.

    make benchmark-documents       # = taskset -c 0 python -m benchmarks.documents

Everything runs in this one process, pinned to one core, against a development PKI made in a
temporary directory (the in-process TSA, CRLs read from disk — no network). Prints markdown.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salter.settings.test")
os.environ.setdefault("SALTER_PKI_DIR", tempfile.mkdtemp(prefix="salter-bench-pki-"))

import django  # noqa: E402

django.setup()

import segno  # noqa: E402
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402
from weasyprint import HTML  # noqa: E402
from weasyprint.text.fonts import FontConfiguration  # noqa: E402

from salter.documents import pki, signing, verification  # noqa: E402

DECISION = """<!doctype html>
<html lang="sr-Cyrl"><head><meta charset="utf-8"><style>
@page {{ size: A4; margin: 2cm 2cm 2.5cm;
  @bottom-center {{ content: counter(page) "/" counter(pages);
  font-size: 9pt; }} }}
body {{ font-family: "DejaVu Serif", serif; font-size: 11pt; line-height: 1.45; }}
header {{ display: flex; justify-content: space-between; border-bottom: 1px solid #333; }}
h1 {{ text-align: center; font-size: 16pt; letter-spacing: .3em; margin: 1.2em 0 .2em; }}
.verify {{ display: flex; gap: 1em; align-items: center; margin-top: 2em; font-size: 9pt; }}
.verify svg {{ width: 3cm; height: 3cm; }}
table {{ border-collapse: collapse; width: 100%; }} td {{ border: 1px solid #999; padding: 3pt; }}
</style></head><body>
<header><div>Република Србија<br>Општина Сурдулица<br>Општинска управа<br>
Одељење за друштвене делатности</div>
<div>Број: {number}<br>Датум: {today}<br>Сурдулица</div></header>
<p>Општинска управа општине Сурдулица, на основу члана 136. Закона о општем управном поступку
(„Службени гласник РС”, бр. 18/2016, 95/2018 и 2/2023) и Одлуке о финансијској подршци
породици са децом, решавајући по захтеву {applicant} из Сурдулице, доноси</p>
<h1>РЕШЕЊЕ</h1>
<ol>
<li>УСВАЈА СЕ захтев и подносиоцу {applicant}, ЈМБГ {jmbg}, признаје право на једнократну
новчану помоћ за новорођено дете {child} у износу од {amount} динара.</li>
<li>Износ из тачке 1. исплатиће се на текући рачун подносиоца број {account} у року од 15 дана
од дана коначности овог решења.</li>
</ol>
<h2>Образложење</h2>
{reasons}
<table><tr><td>Подносилац</td><td>{applicant}</td></tr><tr><td>Дете</td><td>{child}</td></tr>
<tr><td>Износ</td><td>{amount} RSD</td></tr><tr><td>Рачун</td><td>{account}</td></tr></table>
<p><b>Поука о правном леку:</b> Против овог решења може се изјавити жалба Општинском већу
општине Сурдулица у року од 15 дана од дана пријема решења, преко овог органа.</p>
<p style="text-align:right">Начелник Општинске управе<br>Петар Петровић</p>
<div class="verify">{qr}<div>Проверите овај документ на {url}<br>Код: {code}</div></div>
</body></html>"""

REASON = (
    "<p>Подносилац захтева поднео је дана 3. новембра 2026. године захтев за остваривање права"
    " на једнократну новчану помоћ за новорођено дете. Увидом у матичну књигу рођених, по"
    " службеној дужности, утврђено је да је дете рођено 12. октобра 2026. године у Врању и да"
    " подносилац има пребивалиште на територији општине Сурдулица најмање шест месеци пре"
    " рођења детета. Како су испуњени услови прописани Одлуком, решено је као у диспозитиву.</p>"
)


def decision_html(n: int) -> str:
    code = f"SUR-2026-{n:06d}"
    url = f"https://salter.example/verify/{code}/"
    qr = segno.make(url, error="m").svg_inline(scale=4, omitsize=True)
    return DECISION.format(
        number=f"553-{n}/2026-04",
        today=date(2026, 11, 22).strftime("%d.%m.%Y."),
        applicant="Јелена Јовановић",
        jmbg="0101990715007",
        child="Марко Јовановић",
        amount="30.000,00",
        account="160-0000000012345-67",
        reasons=REASON * 3,
        qr=qr,
        url=url,
        code=code,
    )


FONTS = FontConfiguration()  # built once per process: WeasyPrint's font set-up is costly


def render(n: int) -> bytes:
    return HTML(string=decision_html(n)).write_pdf(font_config=FONTS)  # type: ignore[no-any-return]


def per_second(action: Callable[[int], Any], seconds: float) -> tuple[float, int]:
    action(0)  # warm up (imports, caches)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        done += 1
        action(done)
    return done / (time.perf_counter() - start), done


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="per throughput scenario")
    parser.add_argument("--verifications", type=int, default=200)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    pki.init(Path(os.environ["SALTER_PKI_DIR"]))
    personal = signing.personal_signer(7, "Петар Петровић", "petar@surdulica.example")
    seal = signing.seal_signer("surdulica", "Општинска управа Сурдулица")
    rendered = render(1)
    pages = PdfFileReader(BytesIO(rendered)).root["/Pages"]["/Count"]

    def sign(pdf: bytes) -> bytes:
        return signing.sign_pdf(
            pdf, personal, reason="Одобрено", location="Сурдулица", field_name="Potpis"
        )

    def seal_it(pdf: bytes) -> bytes:
        return signing.sign_pdf(
            pdf, seal, reason="Печат органа", location="Сурдулица", field_name="Pecat"
        )

    phases: dict[str, list[float]] = {"render": [], "sign": [], "seal": []}

    def full(n: int) -> bytes:
        t0 = time.perf_counter()
        pdf = render(n)
        t1 = time.perf_counter()
        signed = sign(pdf)
        t2 = time.perf_counter()
        sealed = seal_it(signed)
        t3 = time.perf_counter()
        phases["render"].append(t1 - t0)
        phases["sign"].append(t2 - t1)
        phases["seal"].append(t3 - t2)
        return sealed

    ceiling, n_ceiling = per_second(lambda _n: sign(rendered), args.seconds)
    both, n_both = per_second(lambda _n: seal_it(sign(rendered)), args.seconds)
    decisions, n_decisions = per_second(full, args.seconds)

    sample = full(10_000)
    assert verification.verify_pdf(sample).valid
    latencies = []
    for _ in range(args.verifications):
        t = time.perf_counter()
        verification.verify_pdf(sample)
        latencies.append((time.perf_counter() - t) * 1000)

    ms = {k: statistics.median(v) * 1000 for k, v in phases.items()}
    print(
        f"Decision PDF: {len(rendered) / 1024:.0f} KiB, {pages} page(s); signed and sealed: "
        f"{len(sample) / 1024:.0f} KiB. One core, {args.seconds:.0f} s per scenario.\n"
    )
    print("| scenario | per second | runs | vs ceiling |")
    print("|---|---:|---:|---:|")
    print(f"| a. sign a rendered PDF, B-LT (the ceiling) | {ceiling:.1f} | {n_ceiling} | 100 % |")
    print(
        f"| b. sign + seal a rendered PDF, B-LT | {both:.1f} | {n_both} "
        f"| {100 * both / ceiling:.0f} % |"
    )
    print(
        f"| c. render + sign + seal a decision | {decisions:.1f} | {n_decisions} "
        f"| **{100 * decisions / ceiling:.0f} %** (of b: {100 * decisions / both:.0f} %) |"
    )
    print()
    print(
        f"Median time per decision (c): render {ms['render']:.1f} ms, sign {ms['sign']:.1f} ms,"
        f" seal {ms['seal']:.1f} ms."
    )
    print(
        f"Verification of the signed and sealed decision ({args.verifications} runs): "
        f"p50 {percentile(latencies, 0.5):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms."
    )


if __name__ == "__main__":
    main()
