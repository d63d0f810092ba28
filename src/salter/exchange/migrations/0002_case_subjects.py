"""The subjects of the cases submitted before the access log existed."""

from django.db import migrations


def backfill(apps, schema_editor):
    from salter.core import pii

    Case = apps.get_model("cases", "Case")
    CaseSubject = apps.get_model("exchange", "CaseSubject")
    Person = apps.get_model("identity", "Person")
    User = apps.get_model("identity", "User")
    for case in Case.objects.exclude(subjects__isnull=False).iterator(chunk_size=500):
        user = User.objects.get(pk=case.applicant_id)
        if user.person_id is None:
            given, _sep, family = user.full_name.partition(" ")
            user.person = Person.objects.create(given_name=given[:100], family_name=family[:100])
            user.save(update_fields=["person"])
        subjects = {user.person_id: "applicant"}
        for jmbg in pii.identifiers_in(case.data):
            person = Person.objects.filter(jmbg_hash__in=pii.blinds(jmbg)).first()
            if person is None:
                person = Person.objects.create(jmbg=jmbg, jmbg_hash=pii.blind(jmbg))
            subjects.setdefault(person.pk, "named")
        CaseSubject.objects.bulk_create(
            [CaseSubject(case=case, person_id=pk, role=role) for pk, role in subjects.items()]
        )


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_initial")]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
