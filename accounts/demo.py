"""Demo data at scale: deterministic, realistic, bulk loaded (`manage.py seed_demo`).

Determinism: the same seed and the same `today` give the same rows, value for value. Accounts are
generated in chunks of CHUNK_ACCOUNTS, each drawing from its own `random.Random(f"{seed}/{chunk}")`;
ids are assigned here, in order, from each table's current maximum upwards; every date is an offset
from `today`. Nothing reads the clock or the process (no hash(), no set iteration).

Money is integer cents inside the generator and leaves as "12.34" text. Each account's stored
balances are the sums of the ledger rows generated for it, so `check_ledger` holds by construction.
Ledger rows follow accounts.services.POSTING_RULES: a charge raises insurance (or the patient, for
self-pay); an insurance payment and a contractual adjustment lower insurance; a transfer moves the
patient's share out of insurance; patient payments name no encounter (aging applies them to the
oldest open encounter) and are never more than the balance on the day they are paid.

Loading: PostgreSQL takes COPY (text format) through psycopg 3. At scale, producer processes (one
per core, at most two) generate chunks while this process feeds COPY; chunk k's ids start where
chunk k-1's ended, so ids stay dense and identical to a one-process load. Non-unique indexes and
foreign keys are dropped for a big load and rebuilt after it (rebuilding validates every foreign
key in one pass). Everything runs in one transaction, so a failure leaves nothing behind. SQLite
takes executemany inserts in the same transaction.
"""

import bisect
import multiprocessing
import os
import queue as queue_module
import random
import time
import traceback
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from guardian.shortcuts import get_objects_for_user

from accounts.models import Practice
from core.access import PRACTICE_PERMISSION, grant_practice, practices_for, revoke_practice
from core.audit import audit_record
from core.models import AuditEvent, StaffUser, Tier

CHUNK_ACCOUNTS = 2_500
# Below this many accounts the rows are generated in this process; above it producer processes
# (one per core, at most two) generate while this one feeds COPY to PostgreSQL.
PRODUCER_PROCESS_FROM = 20_000
PRODUCER_AHEAD = 4
# Dropping and rebuilding secondary indexes and foreign keys pays off only for big loads that at
# least double the tables; small loads keep everything in place.
BULK_DDL_FROM = 50_000

# Columns in the order the generator emits them. `_check_columns` compares them with the models, so
# a field added to a model without a database default stops the seed with a clear message.
COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts_patient": (
        "id", "practice_id", "medical_record_number", "first_name", "middle_name", "last_name",
        "date_of_birth", "sex", "phone", "email", "ssn", "time_zone", "address_is_bad", "deceased_on",
        "chart_notes", "created_at", "updated_at",
        "address_line1", "address_line2", "city", "state", "postal_code",
    ),
    "accounts_guarantor": (
        "id", "practice_id", "patient_id", "relationship", "first_name", "last_name", "phone", "email",
        "address_line1", "address_line2", "city", "state", "postal_code", "address_is_bad",
    ),
    "accounts_patientaccount": (
        "id", "practice_id", "account_number", "patient_id", "guarantor_id", "status", "hold_reason",
        "primary_insurance", "payer_name", "assigned_rep_id", "follow_up_on", "patient_balance",
        "insurance_balance", "last_patient_payment_on", "cease_communication_on", "attorney_represented",
        "attorney_name", "attorney_phone", "version", "opened_on", "created_at", "updated_at",
        "first_statement_on",
    ),
    # Below, the columns holding chunk-local ids come first (see ID_COLUMNS).
    "accounts_encounter": (
        "id", "practice_id", "account_id", "date_of_service", "rendering_provider", "rendering_provider_npi",
        "place_of_service", "diagnosis_codes", "created_at",
    ),
    "accounts_chargeline": ("id", "encounter_id", "procedure_code", "modifiers", "units", "amount"),
    "accounts_claim": (
        "id", "encounter_id", "account_id", "payer_name", "payer_id", "payer_claim_number", "status",
        "billed_amount", "paid_amount", "submitted_on", "adjudicated_on", "patient_control_number",
    ),
    "accounts_transaction": (
        "id", "encounter_id", "reverses_id", "account_id", "kind", "patient_amount", "insurance_amount",
        "effective_on", "posted_at", "posted_by_id", "payment_method", "reference", "write_off_reason", "memo",
        "idempotency_key",
    ),
    "accounts_appointment": (
        "id", "practice_id", "patient_id", "starts_at", "provider", "location", "reason", "status",
    ),
}  # fmt: skip
TABLES = tuple(COLUMNS)
MODEL_FOR_TABLE = {
    "accounts_patient": "Patient",
    "accounts_guarantor": "Guarantor",
    "accounts_patientaccount": "PatientAccount",
    "accounts_encounter": "Encounter",
    "accounts_chargeline": "ChargeLine",
    "accounts_claim": "Claim",
    "accounts_transaction": "Transaction",
    "accounts_appointment": "Appointment",
}

# --------------------------------------------------------------------------------------------
# Reference data. Weights are relative frequencies; names include accents, apostrophes, hyphens.

LAST_NAMES = (
    ("Smith", 90), ("Johnson", 70), ("Williams", 60), ("Brown", 55), ("Jones", 55), ("Garcia", 55),
    ("Miller", 45), ("Davis", 45), ("Rodriguez", 45), ("Martinez", 42), ("Hernández", 40), ("Lopez", 35),
    ("Gonzalez", 35), ("Wilson", 32), ("Anderson", 30), ("Thomas", 30), ("Taylor", 30), ("Moore", 28),
    ("Jackson", 28), ("Martin", 28), ("Lee", 28), ("Pérez", 26), ("Thompson", 26), ("White", 26),
    ("Harris", 24), ("Sanchez", 24), ("Clark", 22), ("Ramírez", 22), ("Lewis", 21), ("Robinson", 21),
    ("Walker", 20), ("Young", 20), ("Allen", 20), ("King", 20), ("Wright", 20), ("Scott", 18),
    ("Torres", 18), ("Nguyen", 18), ("Hill", 18), ("Flores", 18), ("Green", 18), ("Adams", 17),
    ("Nelson", 17), ("Baker", 17), ("Hall", 17), ("Rivera", 17), ("Campbell", 16), ("Mitchell", 16),
    ("Carter", 16), ("Roberts", 16), ("O'Brien", 12), ("O'Connor", 11), ("O'Neil", 8), ("D'Angelo", 6),
    ("DiMaggio", 4), ("McDonald", 10), ("MacLeod", 4), ("Smith-Jones", 3), ("García-López", 3),
    ("Núñez", 8), ("Peña", 8), ("Muñoz", 9), ("Ibáñez", 3), ("Müller", 6), ("Schröder", 3),
    ("Kowalski", 7), ("Kowalczyk", 4), ("Wiśniewski", 3), ("Łukasik", 2), ("Novák", 3), ("Dvořák", 2),
    ("Nakamura", 5), ("Tanaka", 5), ("Kim", 14), ("Park", 10), ("Chen", 14), ("Wang", 12), ("Li", 10),
    ("Patel", 14), ("Shah", 8), ("Singh", 10), ("Khan", 9), ("Okafor", 4), ("Adeyemi", 4), ("Mensah", 3),
    ("Haddad", 4), ("Cohen", 8), ("Levy", 5), ("Ivanov", 4), ("Petrov", 3), ("Johansson", 3),
    ("Håkansson", 2), ("Ólafsdóttir", 1), ("Søren", 1), ("Brontë", 1), ("Đặng", 1), ("Nguyễn", 2),
    ("St. James", 2), ("Van der Berg", 3), ("De la Cruz", 4), ("Fitzgerald", 6), ("Sullivan", 10),
    ("Murphy", 12), ("Kelly", 10), ("Reyes", 14), ("Cruz", 12), ("Morales", 12), ("Ortiz", 11),
    ("Gutierrez", 10), ("Chavez", 10), ("Ramos", 9), ("Ruiz", 9), ("Alvarez", 9), ("Mendoza", 9),
    ("Castillo", 8), ("Jimenez", 8), ("Vasquez", 8), ("Romero", 8), ("Herrera", 8), ("Medina", 7),
    ("Aguilar", 7), ("Washington", 6), ("Jefferson", 4), ("Brooks", 9), ("Bennett", 9), ("Wood", 9),
    ("Barnes", 8), ("Ross", 8), ("Henderson", 8), ("Coleman", 8), ("Jenkins", 8), ("Perry", 8),
    ("Powell", 8), ("Long", 7), ("Patterson", 7), ("Hughes", 7), ("Price", 7), ("Sanders", 7),
    ("Myers", 7), ("Ford", 6), ("Hamilton", 6), ("Graham", 6), ("Wallace", 6), ("Woods", 6),
    ("Cole", 6), ("West", 6), ("Jordan", 6), ("Owens", 6), ("Reynolds", 6), ("Fisher", 6),
)  # fmt: skip
# The long tail: the common surnames above cover about a quarter of patients, as the most common
# ones do in the US (Smith ~1%), so a search for "Smith" at 1M accounts finds ~10,000 rather than
# ~40,000. The rest come from these stems and endings: a few thousand plausible surnames.
SURNAME_STEMS = (
    "Ash", "Brad", "Cal", "Dal", "Hart", "Kings", "Mor", "Pem", "Ross", "Stan", "Thorn", "Whit", "Wake", "Bar",
    "Fair", "Lang", "Went", "Ben", "Cas", "Fer", "Gal", "Mar", "Nav", "Ser", "Val", "Vel", "Bian", "Ferr",
    "Colom", "Gall", "Nowa", "Kowa", "Zieli", "Lewan", "Kam", "Hal", "Lind", "Berg", "Sand", "Holm", "Ok",
    "Ade", "Bala", "Chi", "Desh", "Iye", "Nak", "Tak", "Yama", "Hash", "Sato", "Kuro", "Dun", "Glen",
)  # fmt: skip
SURNAME_ENDINGS = (
    "ley", "ford", "ton", "wood", "field", "well", "by", "more", "ham", "son", "ard", "ardo", "illo", "ández",
    "ero", "ares", "ásquez", "eda", "ino", "chi", "etti", "ini", "ello", "ano", "ski", "czyk", "ński", "wicz",
    "quist", "gren", "ström", "afor", "oye", "mura", "moto", "pande", "ar", "ett", "ing", "ow",
)  # fmt: skip
SURNAME_TAIL = tuple(
    sorted({stem + ending for stem in SURNAME_STEMS for ending in SURNAME_ENDINGS}
           | {f"{prefix}{stem}{ending}" for prefix in ("O'", "Mc") for stem in ("Dun", "Hal", "Glen", "Mor", "Kings")
              for ending in ("ley", "nell", "ough", "ahy")})
)  # fmt: skip
COMMON_SURNAME_SHARE = 0.28
FEMALE_NAMES = (
    ("Mary", 30), ("Patricia", 20), ("Jennifer", 22), ("Linda", 18), ("Elizabeth", 20), ("Barbara", 15),
    ("Susan", 15), ("Jessica", 18), ("Sarah", 20), ("Karen", 14), ("Lisa", 14), ("Nancy", 12),
    ("Maria", 22), ("María José", 4), ("Ana", 10), ("Sofía", 10), ("Isabella", 14), ("Olivia", 16),
    ("Emma", 16), ("Ava", 12), ("Mia", 12), ("Charlotte", 10), ("Amelia", 10), ("Harper", 8),
    ("Zoë", 6), ("Chloé", 5), ("Renée", 5), ("Siobhán", 3), ("Aisha", 6), ("Fatima", 5), ("Priya", 6),
    ("Mei", 5), ("Yuki", 3), ("Ngozi", 2), ("Ayşe", 2), ("Małgorzata", 2), ("Björk", 1), ("Inés", 4),
    ("Guadalupe", 5), ("Jasmine", 8), ("Destiny", 5), ("Kayla", 8), ("Hannah", 10), ("Grace", 10),
    ("Anne-Marie", 3), ("Mary Kate", 2), ("D'Andrea", 2), ("Latoya", 4), ("Keisha", 4), ("Rosa", 7),
    ("Dorothy", 6), ("Margaret", 10), ("Betty", 6), ("Helen", 6), ("Joan", 5), ("Ruth", 5),
)  # fmt: skip
MALE_NAMES = (
    ("James", 30), ("Robert", 28), ("John", 28), ("Michael", 28), ("David", 25), ("William", 22),
    ("Richard", 16), ("Joseph", 18), ("Thomas", 16), ("Charles", 14), ("Christopher", 14),
    ("Daniel", 16), ("Matthew", 14), ("Anthony", 12), ("Mark", 10), ("Steven", 10), ("Kevin", 10),
    ("José", 16), ("Juan", 12), ("Luis", 10), ("Carlos", 10), ("Jesús", 6), ("Ángel", 5), ("Diego", 8),
    ("Liam", 14), ("Noah", 14), ("Oliver", 10), ("Elijah", 10), ("Lucas", 8), ("Mateo", 8),
    ("Wei", 5), ("Hiroshi", 3), ("Raj", 5), ("Arjun", 4), ("Mohammed", 6), ("Omar", 5),
    ("Chinedu", 2), ("Kwame", 2), ("François", 3), ("Björn", 2), ("Søren", 1), ("Łukasz", 2),
    ("Jean-Luc", 2), ("D'Angelo", 2), ("Sean", 6), ("Seán", 2), ("Tyrone", 3), ("DeShawn", 3),
    ("Andre", 5), ("Terrence", 4), ("George", 8), ("Frank", 6), ("Raymond", 6), ("Harold", 5),
)  # fmt: skip
STREETS = (
    "Main", "Oak", "Maple", "Cedar", "Elm", "Pine", "Washington", "Lake", "Hill", "Park", "Walnut",
    "Sunset", "Lincoln", "Jackson", "Church", "Highland", "Willow", "Meadow", "River", "Mill",
    "Franklin", "Jefferson", "Madison", "Spring", "Ridge", "Chestnut", "Broad", "Center", "Forest",
    "Dogwood", "Magnolia", "Juniper", "Sycamore", "Aspen", "Birch", "Hawthorne", "Laurel", "Vista",
    "Rio Grande", "Camino Real", "King's", "St. Mary's", "O'Hare", "Martin Luther King Jr.",
)  # fmt: skip
STREET_SUFFIXES = ("St", "Ave", "Rd", "Dr", "Ln", "Blvd", "Ct", "Way", "Pl", "Ter")

# State -> (time zone, cities (name, first three ZIP digits, area codes, time zone if not the state's)).
STATES: dict[str, tuple[str, tuple]] = {
    "NY": ("America/New_York", (
        ("New York", "100", ("212", "646", "917"), None), ("Brooklyn", "112", ("718", "347"), None),
        ("Buffalo", "142", ("716",), None), ("Rochester", "146", ("585",), None),
        ("Albany", "122", ("518",), None), ("Yonkers", "107", ("914",), None),
        ("Syracuse", "132", ("315",), None), ("Poughkeepsie", "126", ("845",), None),
    )),
    "CA": ("America/Los_Angeles", (
        ("Los Angeles", "900", ("213", "310", "323"), None), ("San Diego", "921", ("619", "858"), None),
        ("San José", "951", ("408",), None), ("San Francisco", "941", ("415", "628"), None),
        ("Fresno", "937", ("559",), None), ("Oakland", "946", ("510",), None),
        ("Sacramento", "958", ("916",), None), ("La Cañada Flintridge", "910", ("818",), None),
    )),
    "TX": ("America/Chicago", (
        ("Houston", "770", ("713", "281", "832"), None), ("San Antonio", "782", ("210",), None),
        ("Dallas", "752", ("214", "972"), None), ("Austin", "787", ("512",), None),
        ("Fort Worth", "761", ("817",), None), ("El Paso", "799", ("915",), "America/Denver"),
        ("Lubbock", "794", ("806",), None),
    )),
    "IL": ("America/Chicago", (
        ("Chicago", "606", ("312", "773", "872"), None), ("Aurora", "605", ("630",), None),
        ("Naperville", "605", ("630", "331"), None), ("Joliet", "604", ("815",), None),
        ("Rockford", "611", ("815", "779"), None), ("Springfield", "627", ("217",), None),
        ("Peoria", "616", ("309",), None),
    )),
    "AZ": ("America/Phoenix", (
        ("Phoenix", "850", ("602", "623"), None), ("Tucson", "857", ("520",), None),
        ("Mesa", "852", ("480",), None), ("Chandler", "852", ("480",), None),
        ("Scottsdale", "852", ("480",), None), ("Flagstaff", "860", ("928",), None),
        # The Navajo Nation observes daylight saving time; the rest of Arizona does not.
        ("Window Rock", "865", ("928",), "America/Denver"),
    )),
    "FL": ("America/New_York", (
        ("Miami", "331", ("305", "786"), None), ("Tampa", "336", ("813",), None),
        ("Orlando", "328", ("407",), None), ("Jacksonville", "322", ("904",), None),
        ("Pensacola", "325", ("850",), "America/Chicago"),
    )),
    "CO": ("America/Denver", (
        ("Denver", "802", ("303", "720"), None), ("Colorado Springs", "809", ("719",), None),
        ("Boulder", "803", ("303",), None), ("Fort Collins", "805", ("970",), None),
    )),
    "WA": ("America/Los_Angeles", (
        ("Seattle", "981", ("206",), None), ("Spokane", "992", ("509",), None),
        ("Tacoma", "984", ("253",), None), ("Bellevue", "980", ("425",), None),
    )),
    "MA": ("America/New_York", (
        ("Boston", "021", ("617", "857"), None), ("Worcester", "016", ("508", "774"), None),
        ("Springfield", "011", ("413",), None), ("Lowell", "018", ("978",), None),
    )),
}  # fmt: skip

# Specialty -> E/M visit codes (code, fee in cents, weight), extra lines (code, fee, probability,
# units), ICD-10-CM codes, patient ages (low, high), appointment reasons.
SPECIALTIES: dict[str, dict] = {
    "pediatrics": {
        "visits": (("99213", 12_500, 40), ("99214", 18_500, 18), ("99212", 8_000, 15), ("99392", 19_000, 14),
                   ("99393", 19_500, 13)),
        "extras": (("90471", 3_000, 0.30, 1), ("87880", 2_800, 0.15, 1), ("36415", 1_500, 0.06, 1),
                   ("85025", 3_500, 0.05, 1), ("99173", 1_200, 0.10, 1)),
        "diagnoses": ("Z00.129", "J06.9", "J02.9", "H66.90", "J45.909", "R50.9", "L20.9", "Z23", "B34.9"),
        "ages": (1, 18),
        "reasons": ("Well-child visit", "Sick visit", "Vaccines", "Ear pain follow-up", "Asthma check"),
    },
    "cardiology": {
        "visits": (("99214", 20_500, 45), ("99215", 27_500, 20), ("99204", 32_000, 12), ("99213", 13_500, 23)),
        "extras": (("93000", 8_500, 0.45, 1), ("93306", 45_000, 0.08, 1), ("36415", 1_500, 0.30, 1),
                   ("80061", 5_500, 0.20, 1), ("85025", 3_500, 0.12, 1)),
        "diagnoses": ("I10", "I25.10", "I48.91", "I50.9", "R07.9", "E78.5", "R00.2", "I35.0"),
        "ages": (35, 95),
        "reasons": ("Follow-up", "Echocardiogram", "ECG", "Medication review", "New patient"),
    },
    "family": {
        "visits": (("99213", 13_000, 45), ("99214", 19_500, 28), ("99396", 24_000, 12), ("99203", 17_000, 15)),
        "extras": (("36415", 1_500, 0.25, 1), ("85025", 3_500, 0.15, 1), ("80053", 4_500, 0.15, 1),
                   ("81003", 1_200, 0.10, 1), ("71046", 12_000, 0.05, 1), ("93000", 8_500, 0.05, 1),
                   ("90471", 3_000, 0.08, 1)),
        "diagnoses": ("E11.9", "I10", "J06.9", "Z00.00", "M54.50", "E78.5", "F41.1", "K21.9", "N39.0", "J20.9"),
        "ages": (0, 90),
        "reasons": ("Annual physical", "Follow-up", "Sick visit", "Lab work", "Medication review"),
    },
    "internal": {
        "visits": (("99214", 19_500, 40), ("99215", 26_500, 15), ("99213", 13_000, 35), ("99397", 26_000, 10)),
        "extras": (("36415", 1_500, 0.35, 1), ("80053", 4_500, 0.25, 1), ("85025", 3_500, 0.25, 1),
                   ("83036", 3_000, 0.15, 1), ("93000", 8_500, 0.10, 1), ("71046", 12_000, 0.05, 1)),
        "diagnoses": ("E11.9", "I10", "E78.5", "N18.30", "E03.9", "J44.9", "Z00.00", "D64.9", "E66.9"),
        "ages": (18, 95),
        "reasons": ("Follow-up", "Annual physical", "Diabetes check", "Lab review", "Medication review"),
    },
    "orthopedics": {
        "visits": (("99203", 18_000, 25), ("99213", 13_500, 45), ("99214", 20_000, 30)),
        "extras": (("20610", 18_000, 0.20, 1), ("73030", 9_500, 0.12, 1), ("73562", 10_000, 0.15, 1),
                   ("73110", 9_000, 0.08, 1), ("J1030", 1_200, 0.15, 1), ("97110", 6_000, 0.10, 2)),
        "diagnoses": ("M17.11", "M25.511", "M54.50", "S83.241A", "M75.101", "S62.101A", "M79.604", "M19.90"),
        "ages": (8, 90),
        "reasons": ("Post-op check", "Knee pain", "Injection", "X-ray review", "New patient"),
    },
}  # fmt: skip

PROVIDER_NAMES = (
    "Anna Kowalski, MD", "Rafael Ortega, MD", "Grace Obi, MD", "Samuel Whitfield, DO", "Lena Fischer, MD",
    "Hiro Tanaka, MD", "Priya Raman, MD", "Marcus O'Neill, DO", "Elena Petrova, MD", "Daniel Ruiz, PA-C",
    "Chloé Martin, NP", "Omar Haddad, MD", "Julia Santos, MD", "Benjamin Cohen, MD", "Kateřina Nováková, MD",
    "Thomas Reed, MD", "Amara Nwosu, MD", "Victor Chen, DO",
)  # fmt: skip

# The demo practices: the first three are the `make run` default (New York, California, Texas).
PRACTICE_PROFILES = (
    {"code": "hudson-peds", "name": "Hudson Valley Pediatrics", "state": "NY", "specialty": "pediatrics",
     "prefix": "HV", "weight": 1.0, "fee_factor": 1.05,
     "policy": {"target_collection_rate": "96.00", "statement_cycle_days": 30, "small_balance_threshold": "5.00"}},
    {"code": "bayview-cardio", "name": "Bayview Cardiology Associates", "state": "CA", "specialty": "cardiology",
     "prefix": "BC", "weight": 0.8, "fee_factor": 1.25,
     "policy": {"target_collection_rate": "93.50", "follows_501r": True, "writeoff_limit_management": "1000.00",
                "plan_max_months": 36}},
    {"code": "lonestar-fm", "name": "Lone Star Family Medicine", "state": "TX", "specialty": "family",
     "prefix": "LS", "weight": 1.1, "fee_factor": 0.95,
     "policy": {"target_collection_rate": "94.00", "small_balance_threshold": "10.00"}},
    {"code": "lakeshore-im", "name": "Lakeshore Internal Medicine", "state": "IL", "specialty": "internal",
     "prefix": "LK", "weight": 0.9, "fee_factor": 1.0,
     "policy": {"target_collection_rate": "95.00", "plan_min_installment": "30.00"}},
    {"code": "saguaro-ortho", "name": "Saguaro Orthopedics & Sports Medicine", "state": "AZ",
     "specialty": "orthopedics", "prefix": "SG", "weight": 0.7, "fee_factor": 1.15,
     "policy": {"target_collection_rate": "92.00", "plan_min_down_payment_percent": "10.00"}},
    {"code": "front-range-fm", "name": "Front Range Family Practice", "state": "CO", "specialty": "family",
     "prefix": "FR", "weight": 0.8, "fee_factor": 1.0, "policy": {}},
    # Massachusetts (940 CMR 7.04): at most two collection calls in seven days.
    {"code": "beacon-im", "name": "Beacon Hill Internal Medicine", "state": "MA", "specialty": "internal",
     "prefix": "BH", "weight": 0.7, "fee_factor": 1.2, "policy": {"call_cap_count": 2, "call_cap_days": 7}},
    {"code": "gulf-coast-peds", "name": "Gulf Coast Pediatrics", "state": "FL", "specialty": "pediatrics",
     "prefix": "GC", "weight": 0.8, "fee_factor": 0.9, "policy": {"follows_501r": True}},
    {"code": "puget-ortho", "name": "Puget Sound Orthopedics", "state": "WA", "specialty": "orthopedics",
     "prefix": "PS", "weight": 0.6, "fee_factor": 1.2, "policy": {}},
)  # fmt: skip

# Payers by insurance type: (name, payer id, allowed share of billed (low, high) in percent).
COMMERCIAL_PAYERS = (
    ("Aetna", "60054", (58, 72)), ("Blue Cross Blue Shield", "BCBS1", (55, 70)), ("Cigna", "62308", (60, 75)),
    ("UnitedHealthcare", "87726", (56, 70)), ("Humana", "61101", (55, 68)), ("Oscar Health", "OSCAR", (52, 66)),
)  # fmt: skip
MEDICAID_PAYERS = {
    "NY": "New York Medicaid", "CA": "Medi-Cal", "TX": "Texas Medicaid", "IL": "Illinois Medicaid",
    "AZ": "AHCCCS", "FL": "Florida Medicaid", "CO": "Health First Colorado", "WA": "Apple Health",
    "MA": "MassHealth",
}  # fmt: skip
MEDICARE_PAYER = ("Medicare Part B", "MCARE", (40, 52))
WORKERS_COMP_PAYER = ("State Workers' Compensation Fund", "WCOMP", (75, 90))

# Newest visit: (days ago, span) per slot; 30% within 30 days, 20% 31-60, 15% 61-90, 10% 91-120,
# 25% older. Slots are taken in turn by account position (see _encounter_ages).
RECENCY_CLASSES = (
    *[(0, 31)] * 6, *[(31, 30)] * 4, *[(61, 30)] * 3, *[(91, 30)] * 2, *[(121, 420)] * 5,
)  # fmt: skip
# Visits per account: 1 to 6, about three on average.
VISIT_COUNT_CUMULATIVE = (0.17, 0.40, 0.65, 0.82, 0.93)
PLACE_OF_SERVICE = (("11", 88), ("02", 7), ("22", 5))  # office, telehealth, outpatient hospital
NSF_MEMO = "Returned check (NSF)"


@dataclass(frozen=True)
class Dialect:
    """How values are written for one database: PostgreSQL COPY text, or SQLite parameters."""

    null: str | None
    true: str
    false: str
    timestamp_suffix: str  # PostgreSQL reads the offset; Django stores naive UTC text in SQLite


POSTGRES = Dialect(null="\\N", true="t", false="f", timestamp_suffix="+00")
SQLITE = Dialect(null=None, true="1", false="0", timestamp_suffix="")


@dataclass(frozen=True)
class PracticeRef:
    id: int
    code: str
    state: str
    time_zone: str
    specialty: str
    prefix: str
    weight: float
    fee_factor: float


# Tables whose rows per account vary. Chunks are generated in parallel, so their ids are chunk-local
# until the chunk's base ids are known: a generated row is (local id, ..., rest of the row) where
# the local ids fill the leading columns of COLUMNS (None: NULL) and `rest` is the other values,
# already joined for COPY (PostgreSQL) or a tuple (SQLite).
ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts_encounter": ("accounts_encounter",),
    "accounts_chargeline": ("accounts_chargeline", "accounts_encounter"),
    "accounts_claim": ("accounts_claim", "accounts_encounter"),
    "accounts_transaction": ("accounts_transaction", "accounts_encounter", "accounts_transaction"),
    "accounts_appointment": ("accounts_appointment",),
}
VARIABLE_TABLES = tuple(ID_COLUMNS)


@dataclass
class Chunk:
    index: int
    rows: dict[str, list]
    counts: dict[str, int]
    patient_total_cents: int = 0
    insurance_total_cents: int = 0

    def copy_payload(self, bases: dict[str, int]) -> dict[str, bytes]:
        """COPY text format. The generator never emits a tab, newline or backslash inside a value."""
        payload = {}
        null = POSTGRES.null
        for table, rows in self.rows.items():
            if not rows:
                continue
            targets = ID_COLUMNS.get(table)
            if targets is None:
                lines = rows
            elif len(targets) == 1:
                b0 = bases[targets[0]]
                lines = [f"{r[0] + b0}\t{r[1]}" for r in rows]
            elif len(targets) == 2:
                b0, b1 = bases[targets[0]], bases[targets[1]]
                lines = [f"{r[0] + b0}\t{r[1] + b1}\t{r[2]}" for r in rows]
            else:
                b0, b1, b2 = (bases[t] for t in targets)
                lines = [
                    f"{r[0] + b0}\t{null if r[1] is None else r[1] + b1}\t{null if r[2] is None else r[2] + b2}\t{r[3]}"
                    for r in rows
                ]
            payload[table] = ("\n".join(lines) + "\n").encode()
        return payload

    def sqlite_rows(self, bases: dict[str, int]) -> dict[str, list[tuple]]:
        finished = {}
        for table, rows in self.rows.items():
            targets = ID_COLUMNS.get(table)
            if targets is None:
                finished[table] = rows
                continue
            n = len(targets)
            finished[table] = [
                tuple(None if v is None else v + bases[t] for v, t in zip(r[:n], targets, strict=True)) + r[n]
                for r in rows
            ]
        return finished


def practice_profile(index: int) -> dict:
    """The profile of the index-th demo practice; beyond the list, the list again as new sites."""
    base = PRACTICE_PROFILES[index % len(PRACTICE_PROFILES)]
    site = index // len(PRACTICE_PROFILES)
    if site == 0:
        return base
    return {**base, "code": f"{base['code']}-{site + 1}", "name": f"{base['name']} (site {site + 1})",
            "prefix": f"{base['prefix']}{site + 1}"}  # fmt: skip


def _cumulative(weights) -> tuple[list[float], float]:
    running, total = [], 0.0
    for weight in weights:
        total += weight
        running.append(total)
    return running, total


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(char for char in folded.lower() if char.isalnum())


def money(cents: int) -> str:
    if cents < 0:
        cents = -cents
        return f"-{cents // 100}.{cents % 100:02d}"
    return f"{cents // 100}.{cents % 100:02d}"


class _Weighted:
    """random.choices for one item, without its per-call overhead."""

    __slots__ = ("cumulative", "items", "total")

    def __init__(self, pairs):
        self.items = [item for item, _ in pairs]
        self.cumulative, self.total = _cumulative([weight for _, weight in pairs])

    def pick(self, rnd):
        return self.items[bisect.bisect(self.cumulative, rnd() * self.total)]


class DemoGenerator:
    """Rows for every demo table, chunk by chunk (see `chunk` for how ids are assigned)."""

    MAX_DAYS_BACK = 40_000  # dates of birth up to ~109 years
    DAYS_AHEAD = 40

    def __init__(self, *, seed: int, today: date, practices: list[PracticeRef], first_ids: dict[str, int],
                 dialect: Dialect):  # fmt: skip
        self.seed = seed
        self.today = today
        self.practices = practices
        self.dialect = dialect
        self.first_ids = dict(first_ids)
        # Rows leave the generator as COPY text lines (PostgreSQL) or tuples (SQLite).
        self.join = "\t".join if dialect.null is not None else tuple
        self.clock = [f"{13 + s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(36_000)]
        self.local_id = dict.fromkeys(VARIABLE_TABLES, 0)
        self.practice_pick = _Weighted([(p, p.weight) for p in practices])
        # days[k + DAYS_AHEAD] is the ISO date k days before today (negative k: after today).
        self.days = [(today - timedelta(days=k)).isoformat() for k in range(-self.DAYS_AHEAD, self.MAX_DAYS_BACK)]
        self.last_names = _Weighted(LAST_NAMES)
        self.female_names = _Weighted(FEMALE_NAMES)
        self.male_names = _Weighted(MALE_NAMES)
        self.ascii_names = {
            name: _ascii(name) for name in (*(n for n, _ in (*LAST_NAMES, *FEMALE_NAMES, *MALE_NAMES)), *SURNAME_TAIL)
        }
        self.cities = {
            state: _Weighted([(city, 4 if i == 0 else 2 if i < 3 else 1) for i, city in enumerate(cities)])
            for state, (_, cities) in STATES.items()
        }
        self.state_list = sorted(STATES)
        self.specialty_tables = {
            name: {
                "visits": _Weighted([((code, fee), weight) for code, fee, weight in spec["visits"]]),
                "extras": spec["extras"],
                "diagnoses": spec["diagnoses"],
                "ages": spec["ages"],
                "reasons": spec["reasons"],
            }
            for name, spec in SPECIALTIES.items()
        }
        self.place_of_service = _Weighted(PLACE_OF_SERVICE)
        self.providers = {
            p.id: [(PROVIDER_NAMES[(index * 5 + k) % len(PROVIDER_NAMES)], self._npi(index * 10 + k)) for k in range(4)]
            for index, p in enumerate(practices)
        }
        # Appointment slots: the UTC start of 08:00 local on each of the next 31 days, per practice
        # (computed with zoneinfo so daylight saving time is right on each date).
        self.morning_utc = {
            p.id: [
                datetime.combine(today + timedelta(days=d), datetime.min.time(), ZoneInfo(p.time_zone))
                .replace(hour=8)
                .astimezone(UTC)
                .replace(tzinfo=None)
                for d in range(32)
            ]
            for p in practices
        }

    @staticmethod
    def _npi(n: int) -> str:
        """A ten-digit NPI with a valid check digit (Luhn over the 80840 prefix)."""
        body = f"1{(n * 7919 + 23456789) % 100_000_000:08d}"
        digits = [int(c) for c in "80840" + body]
        total = 0
        for i, digit in enumerate(reversed(digits)):
            if i % 2 == 0:
                digit *= 2
                if digit > 9:
                    digit -= 9
            total += digit
        return body + str((10 - total % 10) % 10)

    def _take_id(self, table: str) -> int:
        """A chunk-local id (0, 1, ...) for a table whose row count per account varies."""
        value = self.local_id[table]
        self.local_id[table] = value + 1
        return value

    def chunk(self, index: int, count: int) -> "Chunk":
        """Rows of one chunk. Ids of encounters, charge lines, claims, ledger rows and appointments
        are chunk-local ints until `Chunk.finish` adds the chunk's base ids; patients, guarantors and
        accounts (one each per account) get their final ids here."""
        rng = random.Random(f"{self.seed}/{index}")
        rows = {table: [] for table in TABLES}
        chunk = Chunk(index=index, rows=rows, counts={})
        self.local_id = dict.fromkeys(VARIABLE_TABLES, 0)
        first = index * CHUNK_ACCOUNTS
        for position in range(first, first + count):
            self._account(rng, rows, chunk, position)
        chunk.counts = {table: len(table_rows) for table, table_rows in rows.items()}
        return chunk

    # ----------------------------------------------------------------------------------------
    def _day(self, days_ago: int) -> str:
        return self.days[days_ago + self.DAYS_AHEAD]

    def _timestamp(self, days_ago: int, rnd) -> str:
        # Office hours in the continental US fall between 13:00 and 23:00 UTC.
        return (
            f"{self.days[days_ago + self.DAYS_AHEAD]} {self.clock[int(rnd() * 36_000)]}{self.dialect.timestamp_suffix}"
        )

    def _surname(self, rnd) -> str:
        if rnd() < COMMON_SURNAME_SHARE:
            return self.last_names.pick(rnd)
        return SURNAME_TAIL[int(rnd() * len(SURNAME_TAIL))]

    def _person(self, rng, sex: str) -> str:
        names = self.female_names if sex == "F" else self.male_names
        return names.pick(rng.random)

    def _address(self, rng, state: str):
        rnd = rng.random
        city, zip3, area_codes, city_zone = self.cities[state].pick(rnd)
        line1 = (
            f"{1 + int(rnd() * 9899)} {STREETS[int(rnd() * len(STREETS))]} "
            + (STREET_SUFFIXES[int(rnd() * len(STREET_SUFFIXES))])
        )
        roll = rnd()
        line2 = f"Apt {1 + int(rnd() * 40)}{'ABCDEF'[int(rnd() * 6)]}" if roll < 0.18 else (
            f"Unit {100 + int(rnd() * 400)}" if roll < 0.22 else ""
        )  # fmt: skip
        postal = f"{zip3}{int(rnd() * 100):02d}"
        zone = city_zone or STATES[state][0]
        return line1, line2, city, postal, zone, area_codes

    @staticmethod
    def _phone(rnd, area_codes) -> str:
        exchange = 201 + int(rnd() * 788)
        if exchange % 100 == 11 or exchange == 555:  # N11 codes and 555 are not subscriber exchanges
            exchange += 1
        return f"{area_codes[int(rnd() * len(area_codes))]}{exchange}{int(rnd() * 10_000):04d}"

    def _email(self, rnd, first: str, last: str) -> str:
        domain = ("example.com", "example.net", "example.org")[int(rnd() * 3)]
        style = int(rnd() * 3)
        f, la = self.ascii_names.get(first) or _ascii(first), self.ascii_names.get(last) or _ascii(last)
        local = f"{f}.{la}" if style == 0 else f"{f[:1]}{la}{int(rnd() * 100)}" if style == 1 else f"{f}{la[:1]}"
        return f"{local}@{domain}"

    # ----------------------------------------------------------------------------------------
    def _account(self, rng, rows, chunk: "Chunk", position: int) -> None:
        """One account: patient, guarantor, encounters with charges and claims, ledger, appointments."""
        rnd = rng.random
        practice = self.practice_pick.pick(rnd)
        spec = self.specialty_tables[practice.specialty]
        patient_id = self.first_ids["accounts_patient"] + position
        guarantor_id = self.first_ids["accounts_guarantor"] + position
        account_id = self.first_ids["accounts_patientaccount"] + position

        person, patient_row = self._patient(rng, practice, spec, patient_id)
        ages = self._encounter_ages(rnd, person["dob_days"], position)
        deceased = person["age_years"] >= 60 and rnd() < 0.03 and ages[-1] > 1
        insurance, payer = self._insurance(rnd, practice, person["age_years"])
        self._guarantor_row(rng, rows, practice, person, patient_id, guarantor_id)
        opened = min(ages[0] + int(rnd() * 30), person["dob_days"] - 1)
        created_at = self._timestamp(opened, rnd)
        # Deceased after the last visit.
        patient_row[13] = self._day(int(rnd() * (ages[-1] - 1))) if deceased else self.dialect.null
        patient_row[15] = patient_row[16] = created_at
        rows["accounts_patient"].append(self.join(patient_row))

        ledger, patient_debits, provider = self._encounters(
            rng, rows, practice, spec, account_id, ages, insurance, payer
        )
        last_payment = self._patient_payments(rng, ledger, patient_debits)
        patient_cents, insurance_cents = self._ledger_rows(rnd, rows, account_id, ledger)
        chunk.patient_total_cents += patient_cents
        chunk.insurance_total_cents += insurance_cents

        null = self.dialect.null
        rows["accounts_patientaccount"].append(self.join((
            str(account_id), str(practice.id), f"{practice.prefix}{account_id:07d}", str(patient_id),
            str(guarantor_id), "active", "", insurance, payer[0], null, null, money(patient_cents),
            money(insurance_cents), null if last_payment is None else self._day(last_payment), null,
            self.dialect.false, "", "", "1",
            self._day(opened), created_at, created_at, null,
        )))  # fmt: skip

        if not deceased and rnd() < 0.16:
            for _ in range(1 if rnd() < 0.8 else 2):
                # Today included, so the front desk's schedule and the dashboards have a day to show.
                day = int(rnd() * 31)
                start = self.morning_utc[practice.id][day] + timedelta(minutes=15 * int(rnd() * 34))
                rows["accounts_appointment"].append((
                    self._take_id("accounts_appointment"),
                    self.join((
                        str(practice.id), str(patient_id),
                        start.strftime("%Y-%m-%d %H:%M:%S") + self.dialect.timestamp_suffix, provider,
                        "Main office", spec["reasons"][int(rnd() * len(spec["reasons"]))], "scheduled",
                    )),
                ))  # fmt: skip

    def _patient(self, rng, practice: PracticeRef, spec: dict, patient_id: int) -> tuple[dict, list]:
        """The patient's facts, and their row with the deceased date and timestamps still to fill."""
        rnd = rng.random
        d = self.dialect
        low_age, high_age = spec["ages"]
        if practice.specialty == "family" and rnd() < 0.75:
            low_age = 18
        age_years = low_age + int(rnd() * (high_age - low_age))
        dob_days = age_years * 365 + int(rnd() * 365) + 1
        sex_roll = rnd()
        sex = "F" if sex_roll < 0.51 else "M" if sex_roll < 0.985 else "X" if sex_roll < 0.995 else "U"
        first = self._person(rng, "F" if sex == "F" or (sex in "XU" and rnd() < 0.5) else "M")
        last = self._surname(rnd)
        middle_roll = rnd()
        if middle_roll < 0.35:
            middle = self._person(rng, sex)
        elif middle_roll < 0.55:
            middle = "ABCDEFGHJKLMNPRSTW"[int(rnd() * 18)]
        else:
            middle = ""
        home_state = practice.state if rnd() < 0.94 else self.state_list[int(rnd() * len(self.state_list))]
        line1, line2, city, postal, zone, area_codes = self._address(rng, home_state)
        phone = self._phone(rnd, area_codes) if rnd() < 0.96 else ""
        email = self._email(rnd, first, last) if age_years >= 16 and rnd() < 0.45 else ""
        # Area numbers 900-999 are never issued as SSNs.
        ssn = f"9{int(rnd() * 100):02d}-{1 + int(rnd() * 99):02d}-{1 + int(rnd() * 9999):04d}" if rnd() < 0.55 else ""
        address_is_bad = d.true if rnd() < 0.025 else d.false
        row = [
            str(patient_id), str(practice.id), f"MRN{patient_id:08d}", first, middle, last, self._day(dob_days),
            sex, phone, email, ssn, zone, address_is_bad, None, "", None, None, line1, line2, city, home_state,
            postal,
        ]  # fmt: skip
        return {
            "age_years": age_years, "dob_days": dob_days, "sex": sex, "first": first, "last": last,
            "phone": phone, "email": email, "area_codes": area_codes,
            "address": (line1, line2, city, home_state, postal),
        }, row  # fmt: skip

    def _encounter_ages(self, rnd, dob_days: int, position: int) -> list[int]:
        """Days before today of each visit, oldest first; no visit precedes the date of birth.

        The newest visit's age comes from a recency class taken in turn by account position (not
        drawn), so even a few dozen accounts have open balances in every aging bucket: 30% of
        accounts were last seen within 30 days, 20% 31-60, 15% 61-90, 10% 91-120, 25% longer ago.
        """
        low, span = RECENCY_CLASSES[position * 7 % len(RECENCY_CLASSES)]
        newest = low + int(rnd() * span)
        roll = rnd()
        count = 1 + bisect.bisect(VISIT_COUNT_CUMULATIVE, roll)
        ages = [newest]
        for _ in range(count - 1):
            ages.append(ages[-1] + 10 + int(rnd() * 110))
        ages = [age for age in ages if age < dob_days] or [min(newest, dob_days - 1)]
        ages.reverse()
        return ages

    @staticmethod
    def _insurance(rnd, practice: PracticeRef, age_years: int) -> tuple[str, tuple[str, str, int, int, float]]:
        """The account's primary coverage and its payer (name, payer id, allowed % low, high)."""
        roll = rnd()
        if age_years >= 65:
            insurance = "medicare" if roll < 0.86 else "commercial" if roll < 0.95 else "self_pay"
        elif age_years < 18:
            insurance = "medicaid" if roll < 0.42 else "commercial" if roll < 0.93 else "self_pay"
        elif practice.specialty == "orthopedics" and roll < 0.06:
            insurance = "workers_comp"
        else:
            insurance = "commercial" if roll < 0.66 else "medicaid" if roll < 0.84 else "self_pay"
        if insurance == "commercial":
            name, payer_id, (low, high) = COMMERCIAL_PAYERS[int(rnd() * len(COMMERCIAL_PAYERS))]
        elif insurance == "medicare":
            name, payer_id, (low, high) = MEDICARE_PAYER
        elif insurance == "medicaid":
            name, payer_id, low, high = MEDICAID_PAYERS[practice.state], "MCD" + practice.state, 32, 45
        elif insurance == "workers_comp":
            name, payer_id, (low, high) = WORKERS_COMP_PAYER
        else:
            name, payer_id, low, high = "", "", 100, 100
        return insurance, (name, payer_id, low, high, rnd())  # the last: the plan's cost-sharing design

    def _guarantor_row(self, rng, rows, practice, person: dict, patient_id: int, guarantor_id: int) -> None:
        """The patient, a parent or guardian for a minor, sometimes a spouse."""
        rnd = rng.random
        null = self.dialect.null
        last = person["last"]
        if person["age_years"] < 18:
            relationship = "parent" if rnd() < 0.95 else "guardian"
            first = self._person(rng, "F" if rnd() < 0.6 else "M")
            last = last if rnd() < 0.85 else self._surname(rnd)
            patient, phone = null, person["phone"] or self._phone(rnd, person["area_codes"])
            email = self._email(rnd, first, last) if rnd() < 0.5 else ""
        elif rnd() < 0.06:
            relationship, patient, phone, email = "spouse", null, person["phone"], ""
            first = self._person(rng, "M" if person["sex"] == "F" else "F")
        else:
            relationship, first, patient = "self", person["first"], str(patient_id)
            phone, email = person["phone"], person["email"]
        line1, line2, city, state, postal = person["address"]
        rows["accounts_guarantor"].append(self.join((
            str(guarantor_id), str(practice.id), patient, relationship, first, last, phone, email,
            line1, line2, city, state, postal, self.dialect.false,
        )))  # fmt: skip

    def _encounters(self, rng, rows, practice, spec, account_id, ages, insurance, payer):
        """Visits with charge lines and claims, and the ledger rows insurance produced for them.

        Returns (ledger, patient_debits, usual provider). A ledger entry is
        [days_ago, order within the day, kind, encounter, patient cents, insurance cents, method,
        reference, memo, index of the entry it reverses]."""
        rnd = rng.random
        null = self.dialect.null
        payer_name, payer_id, rate_low, rate_high, plan_roll = payer
        ledger: list[list] = []
        patient_debits: list[tuple[int, int]] = []  # (days_ago, cents) owed by the patient from that day
        providers = self.providers[practice.id]
        provider, npi = providers[int(rnd() * len(providers))]  # the patient's usual clinician
        extras, diagnoses = spec["extras"], spec["diagnoses"]
        encounter_rows = rows["accounts_encounter"]
        join = self.join
        account = str(account_id)
        line_rows = rows["accounts_chargeline"]
        claim_rows = rows["accounts_claim"]
        for visit, age in enumerate(ages, 1):
            encounter_id = self._take_id("accounts_encounter")
            seen_by, seen_npi = (provider, npi) if rnd() >= 0.2 else providers[int(rnd() * len(providers))]
            first_dx = int(rnd() * len(diagnoses))
            codes = list(
                dict.fromkeys(diagnoses[(first_dx + k * 3) % len(diagnoses)] for k in range(1 + int(rnd() * 3)))
            )
            encounter_rows.append((
                encounter_id,
                join((
                    str(practice.id), account, self._day(age), seen_by, seen_npi, self.place_of_service.pick(rnd),
                    "[" + ", ".join(f'"{c}"' for c in codes) + "]", self._timestamp(age, rnd),
                )),
            ))  # fmt: skip

            visit_code, visit_fee = spec["visits"].pick(rnd)
            lines = [(visit_code, int(visit_fee * practice.fee_factor) // 100 * 100, 1)]
            for code, fee, probability, units in extras:
                if rnd() < probability:
                    lines.append((code, int(fee * practice.fee_factor) // 100 * 100, units))
            separate_procedure = any(code in ("20610", "93000") for code, _, _ in lines[1:])
            billed = 0
            for n, (code, fee, units) in enumerate(lines):
                billed += fee * units
                if n == 0 and separate_procedure:
                    modifiers = "25"  # a significant, separately identifiable E/M on the day of a procedure
                elif code.startswith("73"):
                    modifiers = "RT" if rnd() < 0.5 else "LT"
                else:
                    modifiers = ""
                line_rows.append((
                    self._take_id("accounts_chargeline"), encounter_id,
                    join((code, modifiers, str(units), money(fee * units))),
                ))  # fmt: skip

            if insurance == "self_pay":
                billed = billed * 60 // 100  # the practice's self-pay price
                ledger.append(_entry(age, 0, "charge", encounter_id, billed, 0))
                patient_debits.append((age, billed))
                continue
            ledger.append(_entry(age, 0, "charge", encounter_id, 0, billed))
            allowed = billed * (rate_low + int(rnd() * (rate_high - rate_low + 1))) // 100
            # A copay is the patient's from the visit (due at check-in); other cost sharing waits for the
            # payer's remittance.
            copay = min(self._copay(insurance, plan_roll), allowed)
            if copay:
                ledger.append(_entry(age, 1, "transfer_to_patient", encounter_id, copay, -copay))
                patient_debits.append((age, copay))
            submitted = max(age - 1 - int(rnd() * 4), 0)
            adjudicated = submitted - 7 - int(rnd() * 28)
            claim_id = self._take_id("accounts_claim")
            claim_number, paid, adjudicated_on = "", 0, null
            if adjudicated < 0:
                status = "submitted" if submitted < 10 else "pending"
            else:
                adjudicated_on = self._day(adjudicated)
                # Payers echo the practice's patient control number (account and visit) in theirs.
                claim_number = f"{payer_id[:3]}{account_id:08d}V{visit}"
                outcome = rnd()
                if outcome < 0.03:
                    status = "appealed"  # denied, appeal pending: the charge stays with insurance
                elif outcome < 0.06:
                    status = "denied"  # not covered: the rest of the charge becomes the patient's
                    rest = billed - copay
                    ledger.append(_entry(adjudicated, 1, "transfer_to_patient", encounter_id, rest, -rest))
                    patient_debits.append((adjudicated, rest))
                else:
                    status = "paid"
                    share = copay or self._cost_share(insurance, plan_roll, allowed, rnd)
                    paid = allowed - share
                    if paid > 0:
                        era = f"ERA {claim_number}"
                        ledger.append(_entry(adjudicated, 1, "insurance_payment", encounter_id, 0, -paid, "eft", era))
                    if billed > allowed:
                        ledger.append(
                            _entry(adjudicated, 2, "contractual_adjustment", encounter_id, 0, allowed - billed)
                        )
                    if share > 0 and not copay:
                        ledger.append(_entry(adjudicated, 3, "transfer_to_patient", encounter_id, share, -share))
                        patient_debits.append((adjudicated, share))
            claim_rows.append((
                claim_id, encounter_id,
                join((
                    account, payer_name, payer_id, claim_number, status, money(billed), money(paid),
                    self._day(submitted), adjudicated_on, "",
                )),
            ))  # fmt: skip
        return ledger, patient_debits, provider

    def _patient_payments(self, rng, ledger: list[list], patient_debits: list[tuple[int, int]]) -> int | None:
        """Patient payments by the patient's habit, each clamped to the balance on its day (so no
        balance goes negative), with the occasional bounced check. Returns the last payment's age."""
        rnd = rng.random
        habit = rnd()
        candidates = []  # (days_ago, cents)
        if habit < 0.30:  # pays each statement in full
            for age, cents in patient_debits:
                candidates.append((age - 7 - int(rnd() * 30), cents))
        elif habit < 0.55:  # pays part of each bill
            for age, cents in patient_debits:
                if rnd() < 0.7:
                    part = max(1_000, cents * (20 + int(rnd() * 40)) // 100 // 100 * 100)
                    when = age - 15 - int(rnd() * 35)
                    candidates.append((when, part))
                    if rnd() < 0.4:
                        candidates.append((when - 30, part))
        elif habit < 0.67 and patient_debits:  # one late lump sum
            age = patient_debits[0][0]
            candidates.append((age - 90 - int(rnd() * 110), sum(cents for _, cents in patient_debits)))
        candidates = [(when, cents) for when, cents in candidates if when >= 0]
        if not candidates:
            return None
        events = sorted([(-age, 0, cents) for age, cents in patient_debits] + [(-w, 1, c) for w, c in candidates])
        balance = 0
        last_payment = None
        check_number = 1001 + int(rnd() * 8000)
        for negative_age, is_payment, cents in events:
            if not is_payment:
                balance += cents
                continue
            cents = min(cents, balance)
            if cents <= 0:
                continue
            balance -= cents
            when = -negative_age
            roll = rnd()
            memo = ""
            if roll < 0.55:
                # A processor reference; the letter in the middle keeps digit runs short of a card number.
                method, reference = "card", f"pi_{rng.getrandbits(32):08x}q{rng.getrandbits(32):08x}"
            elif roll < 0.80:
                method, reference = "check", f"CHK {check_number}"
                check_number += 1
            elif roll < 0.90:
                method, reference, memo = "cash", "", "Paid at front desk"
            elif roll < 0.95:
                method, reference = "money_order", f"MO {int(rnd() * 100_000_000):08d}"
            else:
                method, reference = "eft", f"ACH {int(rnd() * 100_000_000):08d}"
            ledger.append(_entry(when, 4, "patient_payment", None, -cents, 0, method, reference, memo))
            last_payment = when if last_payment is None else min(last_payment, when)
            if method == "check" and when >= 6 and rnd() < 0.04:
                # Returned unpaid: the reversal adds the amount back, so no balance goes negative.
                bounced = when - 5 - int(rnd() * min(when - 5, 10))
                ledger.append(_entry(bounced, 5, "reversal", None, cents, 0, memo=NSF_MEMO, reverses=len(ledger) - 1))
        return last_payment

    def _ledger_rows(self, rnd, rows, account_id: int, ledger: list[list]) -> tuple[int, int]:
        """Ledger rows in date order (ids follow it); returns the account's patient and insurance sums."""
        null = self.dialect.null
        order = sorted(range(len(ledger)), key=lambda i: (-ledger[i][0], ledger[i][1], i))
        ids = {i: self._take_id("accounts_transaction") for i in order}
        transaction_rows = rows["accounts_transaction"]
        join = self.join
        account = str(account_id)
        patient_cents = insurance_cents = 0
        for i in order:
            when, _, kind, encounter_id, p_cents, i_cents, method, reference, memo, reverses = ledger[i]
            patient_cents += p_cents
            insurance_cents += i_cents
            transaction_rows.append((
                ids[i], encounter_id, None if reverses is None else ids[reverses],
                join((
                    account, kind, money(p_cents), money(i_cents), self._day(when), self._timestamp(when, rnd), null,
                    method, reference, "", memo, "",
                )),
            ))  # fmt: skip
        return patient_cents, insurance_cents

    @staticmethod
    def _copay(insurance: str, plan_roll: float) -> int:
        """The plan's fixed copay per visit, in cents (0: the plan has none)."""
        if insurance == "commercial" and plan_roll < 0.35:
            return (2_000, 3_000, 4_000, 5_000)[int(plan_roll * 100) % 4]
        if insurance == "medicaid" and plan_roll < 0.3:
            return 400
        return 0

    @staticmethod
    def _cost_share(insurance: str, plan_roll: float, allowed: int, rnd) -> int:
        """Coinsurance or deductible: the patient's part of the allowed amount, from the remittance."""
        if insurance == "commercial":
            if 0.35 <= plan_roll < 0.65:
                return allowed * 20 // 100
            if 0.65 <= plan_roll < 0.82:
                # High-deductible plan: the whole allowed amount until the deductible is met.
                return allowed if rnd() < 0.6 else allowed * 20 // 100
            return 0
        if insurance == "medicare":
            return allowed * 20 // 100 if plan_roll < 0.8 else 0  # Part B coinsurance, unless a supplement pays
        return 0


def _entry(days_ago, order, kind, encounter, patient_cents, insurance_cents, method="", reference="", memo="",
           reverses=None) -> list:  # fmt: skip
    """A ledger entry before ids: ordered by date, then `order` within the day."""
    return [days_ago, order, kind, encounter, patient_cents, insurance_cents, method, reference, memo, reverses]


# --------------------------------------------------------------------------------------------
# Loading


@dataclass
class SeedResult:
    accounts: int
    practices: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    skipped: bool = False
    bulk_ddl: bool = False
    producers: int = 0
    patient_total: str = "0.00"
    insurance_total: str = "0.00"
    logins: list[tuple[str, str, list[str]]] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)


def chunk_plan(accounts: int) -> list[tuple[int, int]]:
    return [(index, min(CHUNK_ACCOUNTS, accounts - start)) for index, start in
            enumerate(range(0, accounts, CHUNK_ACCOUNTS))]  # fmt: skip


def _check_columns() -> None:
    for table, columns in COLUMNS.items():
        model = apps.get_model("accounts", MODEL_FOR_TABLE[table])
        expected = {f.column for f in model._meta.concrete_fields}
        if expected != set(columns):
            raise RuntimeError(
                f"seed_demo is out of date with {table}: missing {sorted(expected - set(columns))}, "
                f"unknown {sorted(set(columns) - expected)}"
            )


def _max_ids(cursor) -> dict[str, int]:
    first = {}
    for table in TABLES:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        first[table] = int(cursor.fetchone()[0]) + 1
    return first


def demo_billing_office(index: int, state: str) -> dict:
    """The remit-to address and billing phone of the index-th demo practice: a PO box in the
    state's first city, and a 555-01xx number (reserved for fiction) in its area code."""
    city, zip3, area_codes, _ = STATES[state][1][0]
    return {
        "remit_address_line1": f"PO Box {1000 + 37 * index}",
        "remit_address_line2": "Attn: Patient Billing",
        "remit_city": city,
        "remit_state": state,
        "remit_postal_code": f"{zip3}{index % 100:02d}",
        "billing_phone": f"({area_codes[0]}) 555-01{index % 100:02d}",
    }


def _ensure_practices(count: int) -> list[PracticeRef]:
    refs = []
    for index in range(count):
        profile = practice_profile(index)
        practice = Practice.objects.filter(code=profile["code"]).first()
        office = demo_billing_office(index, profile["state"])
        if practice is None:
            next_id = (Practice.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
            practice = Practice(
                id=next_id,
                code=profile["code"],
                name=profile["name"],
                state=profile["state"],
                time_zone=STATES[profile["state"]][0],
                **profile["policy"],
                **office,
            )
            practice.full_clean()
            practice.save(force_insert=True)
        elif not practice.remit_address_line1 and not practice.billing_phone:
            # A demo practice seeded before practices had a billing office: filled in once.
            Practice.objects.filter(pk=practice.pk).update(**office)
        refs.append(
            PracticeRef(
                id=practice.id,
                code=practice.code,
                state=practice.state if practice.state in STATES else profile["state"],
                time_zone=practice.time_zone,
                specialty=profile["specialty"],
                prefix=profile["prefix"],
                weight=profile["weight"],
                fee_factor=profile["fee_factor"],
            )
        )
    return refs


DEMO_USERS = (
    # username, tier name, practices ("most": all but the last; "last": only the last; "all": Director)
    ("low", "LOW", "most"),
    ("medium", "MEDIUM", "most"),
    ("manager", "MANAGEMENT", "most"),
    ("director", "DIRECTOR", "all"),
    ("admin", "DIRECTOR", "all"),
    ("outsider", "MEDIUM", "last"),
)


def _ensure_demo_users(practice_ids: list[int]) -> list[tuple[str, str, list[str]]]:
    practices = list(Practice.objects.filter(id__in=practice_ids).order_by("id"))
    practices.sort(key=lambda p: practice_ids.index(p.id))
    logins = []
    for username, tier_name, scope in DEMO_USERS:
        user = StaffUser.objects.filter(username=username).first() or StaffUser(username=username)
        user.tier = Tier[tier_name]
        user.is_active = True
        user.first_name = username.title()
        user.last_name = "Demo"
        if username == "admin":
            user.is_staff = user.is_superuser = True
        user.set_password(settings.DEMO_PASSWORD)
        user.save()
        granted = practices[:-1] if scope == "most" else practices[-1:] if scope == "last" else []
        # Exactly these practices, also when an earlier seed granted others.
        for practice in get_objects_for_user(user, PRACTICE_PERMISSION, klass=Practice, accept_global_perms=False):
            if practice not in granted:
                revoke_practice(user, practice)
        for practice in granted:
            grant_practice(user, practice)
        seen = [p.code for p in practices_for(user).order_by("id")]
        logins.append((username, Tier(user.tier).label, seen))
    return logins


def _pg_secondary_objects(cursor) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """Foreign keys on the demo tables and their non-unique indexes, with their definitions."""
    tables = list(TABLES)
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c
        WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[])
        ORDER BY 1, 2
        """,
        [tables],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisunique AND NOT i.indisprimary
        ORDER BY 1
        """,
        [tables],
    )
    indexes = cursor.fetchall()
    return foreign_keys, indexes


class _Bases:
    """Base ids of the variable tables: chunk k starts where chunk k-1 ended (dense ids, in order)."""

    def __init__(self, first_ids: dict[str, int]):
        self.next = {table: first_ids[table] for table in VARIABLE_TABLES}

    def take(self, counts: dict[str, int]) -> dict[str, int]:
        bases = dict(self.next)
        for table in VARIABLE_TABLES:
            self.next[table] += counts[table]
        return bases


def _chunks_inline(params: dict, plan: list[tuple[int, int]], postgres: bool):
    generator = DemoGenerator(**params)
    bases = _Bases(params["first_ids"])
    for index, count in plan:
        chunk = generator.chunk(index, count)
        chunk_bases = bases.take(chunk.counts)
        payload = chunk.copy_payload(chunk_bases) if postgres else chunk.sqlite_rows(chunk_bases)
        yield payload, chunk.counts, chunk.patient_total_cents, chunk.insurance_total_cents


def _produce(worker: int, workers: int, params: dict, plan: list[tuple[int, int]], inbox, outbox) -> None:
    """Producer process: generate every `workers`-th chunk; format it once its base ids arrive."""
    try:
        generator = DemoGenerator(**params)
        for index, count in plan[worker::workers]:
            chunk = generator.chunk(index, count)
            outbox.put(("counts", index, (chunk.counts, chunk.patient_total_cents, chunk.insurance_total_cents)))
            bases = inbox.get()
            if bases is None:
                return
            outbox.put(("payload", index, chunk.copy_payload(bases)))
    except BaseException:
        outbox.put(("error", worker, traceback.format_exc()))


def _chunks_from_producers(params: dict, plan: list[tuple[int, int]], workers: int):
    """Chunks in order from `workers` producer processes, while this process feeds COPY.

    Base ids go out in chunk order, at most PRODUCER_AHEAD chunks beyond the one being loaded, which
    bounds the memory held in finished payloads.
    """
    context = multiprocessing.get_context("fork")
    outbox = context.Queue()
    inboxes = [context.Queue() for _ in range(workers)]
    processes = [
        context.Process(target=_produce, args=(w, workers, params, plan, inboxes[w], outbox), daemon=True)
        for w in range(workers)
    ]
    for process in processes:
        process.start()
    bases = _Bases(params["first_ids"])
    summaries: dict[int, tuple] = {}
    payloads: dict[int, dict[str, bytes]] = {}
    next_base = next_load = 0
    try:
        while next_load < len(plan):
            while next_base in summaries and next_base < next_load + PRODUCER_AHEAD:
                inboxes[next_base % workers].put(bases.take(summaries[next_base][0]))
                next_base += 1
            if next_load in payloads:
                counts, patient_cents, insurance_cents = summaries.pop(next_load)
                yield payloads.pop(next_load), counts, patient_cents, insurance_cents
                next_load += 1
                continue
            try:
                message = outbox.get(timeout=5)
            except queue_module.Empty:
                dead = [p.exitcode for p in processes if not p.is_alive() and p.exitcode != 0]
                if dead:
                    raise RuntimeError(f"a demo data producer exited with code {dead[0]}") from None
                continue
            kind, index, body = message
            if kind == "counts":
                summaries[index] = body
            elif kind == "payload":
                payloads[index] = body
            else:
                raise RuntimeError("a demo data producer failed:\n" + body)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join(timeout=10)


def _copy(raw_cursor, payload: dict[str, bytes]) -> None:
    for table in TABLES:
        data = payload.get(table)
        if data:
            with raw_cursor.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
                copy.write(data)


def _insert_sqlite(raw_connection, rows: dict[str, list[tuple]]) -> None:
    for table in TABLES:
        if rows[table]:
            columns = COLUMNS[table]
            raw_connection.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows[table]
            )


def seed_demo(
    *,
    accounts: int,
    practices: int = 3,
    seed: int = 1,
    today: date,
    producers: int | None = None,
    progress=None,
) -> SeedResult:
    """Load `accounts` demo accounts over `practices` practices, with the demo users, in one transaction."""
    if accounts < 1:
        raise ValueError("accounts must be at least 1")
    if practices < 2:
        raise ValueError("at least two practices: the outsider demo user works only the last one")
    _check_columns()
    started = time.monotonic()
    postgres = connection.vendor == "postgresql"
    if producers is None:
        producers = min(2, os.cpu_count() or 1) if accounts >= PRODUCER_PROCESS_FROM else 0
    if not postgres:
        producers = 0
    result = SeedResult(accounts=accounts, practices=[], producers=producers)
    plan = chunk_plan(accounts)

    with transaction.atomic():
        with connection.cursor() as cursor:
            if postgres:
                # Writers wait for the seed; readers carry on.
                cursor.execute(f"LOCK TABLE {', '.join(TABLES)} IN SHARE ROW EXCLUSIVE MODE")
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            existing_accounts = _count(cursor, "accounts_patientaccount")
            refs = _ensure_practices(practices)
            result.practices = [ref.code for ref in refs]
            first_ids = _max_ids(cursor)
            result.bulk_ddl = postgres and accounts >= BULK_DDL_FROM and accounts >= existing_accounts
            foreign_keys, indexes = [], []
            if result.bulk_ddl:
                foreign_keys, indexes = _pg_secondary_objects(cursor)
                for table, name, _ in foreign_keys:
                    cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                for name, _ in indexes:
                    cursor.execute(f"DROP INDEX {name}")

        params = {
            "seed": seed,
            "today": today,
            "practices": refs,
            "first_ids": first_ids,
            "dialect": POSTGRES if postgres else SQLITE,
        }
        if producers:
            chunks = _chunks_from_producers(params, plan, producers)
        else:
            chunks = _chunks_inline(params, plan, postgres)
        totals = {table: 0 for table in TABLES}
        patient_cents = insurance_cents = 0
        connection.ensure_connection()
        raw = connection.connection
        raw_cursor = raw.cursor() if postgres else None
        done = 0
        try:
            for payload, counts, chunk_patient, chunk_insurance in chunks:
                if postgres:
                    _copy(raw_cursor, payload)
                else:
                    _insert_sqlite(raw, payload)
                for table, n in counts.items():
                    totals[table] += n
                patient_cents += chunk_patient
                insurance_cents += chunk_insurance
                done += counts["accounts_patientaccount"]
                if progress:
                    progress(done, accounts, time.monotonic() - started)
        finally:
            chunks.close()  # stops producer processes at once if loading failed
            if raw_cursor is not None:
                raw_cursor.close()
        mark = _phase(result, "load", started)
        with connection.cursor() as cursor:
            if result.bulk_ddl:
                for _, definition in indexes:
                    cursor.execute(definition)
                mark = _phase(result, "indexes", mark)
                for table, name, definition in foreign_keys:
                    cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                mark = _phase(result, "foreign_keys", mark)
            if postgres:
                for table in (*TABLES, Practice._meta.db_table):
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
                    )
                if result.bulk_ddl:
                    cursor.execute(f"ANALYZE {', '.join(TABLES)}")
                    mark = _phase(result, "analyze", mark)

        logins = _ensure_demo_users([ref.id for ref in refs])
        mark = _phase(result, "users", mark)
        result.counts = totals
        result.patient_total = money(patient_cents)
        result.insurance_total = money(insurance_cents)
        audit_record(
            user=None,
            action=AuditEvent.Action.CREATE,
            object_type="seed",
            object_id=seed,
            detail={
                "seed": seed,
                "today": today.isoformat(),
                "practices": result.practices,
                **{table.removeprefix("accounts_"): n for table, n in totals.items()},
            },
        )
    result.seconds = time.monotonic() - started
    result.logins = logins
    return result


def _phase(result: SeedResult, name: str, since: float) -> float:
    now = time.monotonic()
    result.phases[name] = round(now - since, 1)
    return now


def _count(cursor, table: str) -> int:
    cursor.execute(f"SELECT COUNT(*) FROM {table}")
    return int(cursor.fetchone()[0])
