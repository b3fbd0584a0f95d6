"""Factories for tests: realistic enough to read, small enough to be fast."""

import io
from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from pypdf import PdfWriter

from accounts.models import Appointment, ChargeLine, Encounter, Guarantor, Patient, PatientAccount, Practice
from collections_app.models import QueueEntry, WorkItem
from core.models import StaffUser, Tier

PASSWORD = "correct-horse-battery"


class PracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practice
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"practice{n}")
    name = factory.LazyAttribute(lambda o: f"{o.code.title()} Family Medicine")
    time_zone = "America/New_York"
    state = "NY"


class StaffUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffUser
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    tier = Tier.MEDIUM
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def practices(self, create, extracted, **kwargs):
        from core.access import grant_practice

        self.save()
        for practice in extracted or ():
            grant_practice(self, practice)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    practice = factory.SubFactory(PracticeFactory)
    medical_record_number = factory.Sequence(lambda n: f"MRN{n:07d}")
    first_name = factory.Iterator(["Maria", "James", "Aisha", "Wei", "Olivia", "Diego"])
    last_name = factory.Iterator(["Garcia", "Smith", "O'Brien", "Nguyen", "Kowalski", "Müller"])
    date_of_birth = date(1970, 5, 17)
    phone = factory.Sequence(lambda n: f"555{n:07d}")
    address_line1 = "12 Elm Street"
    city = "Albany"
    state = "NY"
    postal_code = "12207"
    ssn = "123-45-6789"


class GuarantorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guarantor

    practice = factory.SelfAttribute("patient.practice")
    patient = factory.SubFactory(PatientFactory)
    first_name = factory.SelfAttribute("patient.first_name")
    last_name = factory.SelfAttribute("patient.last_name")
    phone = factory.SelfAttribute("patient.phone")


class PatientAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PatientAccount

    practice = factory.SubFactory(PracticeFactory)
    patient = factory.SubFactory(PatientFactory, practice=factory.SelfAttribute("..practice"))
    guarantor = factory.SubFactory(
        GuarantorFactory, patient=factory.SelfAttribute("..patient"), practice=factory.SelfAttribute("..practice")
    )
    account_number = factory.Sequence(lambda n: f"A{n:08d}")


class EncounterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Encounter

    account = factory.SubFactory(PatientAccountFactory)
    practice = factory.SelfAttribute("account.practice")
    date_of_service = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=45))
    rendering_provider = "Dr. Ruth Alvarez"
    place_of_service = "11"
    diagnosis_codes = factory.LazyFunction(lambda: ["J06.9"])


class ChargeLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChargeLine

    encounter = factory.SubFactory(EncounterFactory)
    procedure_code = "99213"
    amount = Decimal("150.00")


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    patient = factory.SubFactory(PatientFactory)
    practice = factory.SelfAttribute("patient.practice")
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))
    provider = "Dr. Ruth Alvarez"


def queued_account(
    practice,
    score="50",
    *,
    reasons=(WorkItem.Reason.PAST_DUE,),
    assigned_rep=None,
    patient_balance="100.00",
    insurance_balance="0.00",
    **entry_fields,
):
    """An account in the work queue: its open work items and its queue entry with this score."""
    account = PatientAccountFactory(
        practice=practice,
        patient_balance=Decimal(patient_balance),
        insurance_balance=Decimal(insurance_balance),
        assigned_rep=assigned_rep,
    )
    today = timezone.localdate()
    for reason in reasons:
        WorkItem.objects.create(account=account, practice=practice, reason=reason, opened_on=today)
    QueueEntry.objects.create(
        account=account,
        practice=practice,
        assigned_rep=assigned_rep,
        score=Decimal(score),
        top_reason=reasons[0],
        reasons=list(reasons),
        oldest_item_on=today,
        **entry_fields,
    )
    return account


def minimal_pdf(pages: int = 1) -> bytes:
    """A real PDF (blank US Letter pages, written by pypdf) that the letter-of-protection check accepts."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
