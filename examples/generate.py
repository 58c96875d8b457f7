#!/usr/bin/env python3
"""Generate Vow's fictional example people (subjects.jsonl) and the demo manifests.

How to run (from anywhere; Python 3.11 or later, standard library only):

    python3 examples/generate.py            # writes every file listed below
    python3 examples/generate.py --check    # writes nothing; exits 1 if a file would change

The output is deterministic: fixed seeds, no clock, no set iteration, no hash order.
Re-running reproduces every file byte for byte. Edit this script, never the outputs.

Files written (paths relative to examples/):

    research-operator/tenants.json
    research-operator/subjects.jsonl          tenant prairie-research   (~300 rows)
    research-operator/bad-rows.jsonl          9 rows that each break one import rule
    marketing-platform/tenants.json
    marketing-platform/platform/subjects.jsonl                 relay-platform        (~60)
    marketing-platform/clients/northwind-outfitters/subjects.jsonl  northwind-outfitters (~150)
    marketing-platform/clients/bluebird-bakery/subjects.jsonl       bluebird-bakery      (~150)

The policy.yaml files beside them are written by hand; this script only uses their
vocabularies (the constants below must agree with them).

Everything is fictional: invented surnames, .example.org/.com/.net emails, phone
numbers in the 555-01xx range reserved for fiction, IP addresses from the
documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), bank numbers
with institution/routing 000. The reference date is 2026-11-25 ("today" for ages and
expiries); every timestamp is on or before 2026-11-20.

Row format (one JSON object per line), see examples/README.md:

    {"identifiers": {"email": ..., "phone": ..., "external_id": ...},   # phone optional
     "birth_date": "YYYY-MM-DD",                                         # optional
     "residence": "CA-SK",                 # optional: ISO 3166 country or subdivision
     "fields": [{"category", "value", "purposes": [...], "source", "store", "collected_at"}],
     "consents": [{"purpose", "kind", "evidence": {"channel", "shown" | "event"}, "at",
                   "parent": {"email": ...}  # parental only
                   "action": "withdraw"       # only on withdrawals; grants have no "action"
                  }]}

Invariants every row of subjects.jsonl keeps (the engine checks them on import):
  * each field's purposes are defined in the tenant's policy and allow its category;
  * each consent-basis purpose of a field has a grant in the row's consents, given at or
    before the field's collected_at (consent at or before collection, R1);
  * implied grants carry evidence.event naming a policy implied_consent rule;
  * a person under the policy's parental_consent_age on 2026-11-25 has, for every
    consent-basis purpose, a grant of kind "parental" naming (by email) a parent that is
    an EARLIER row of the same file; minors' consents are never withdrawn;
  * adults were already over the age limit when their first field was collected;
  * each field's store is a store of the policy that holds the category.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import unicodedata
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
TODAY = date(2026, 11, 25)
LATEST = datetime(2026, 11, 20, 17, 0, tzinfo=timezone.utc)  # nothing happens after this


# --------------------------------------------------------------------------- helpers


def ts(d: datetime) -> str:
    return d.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def dt(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=timezone.utc)


def rand_time(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A time between start and end, on a whole minute, during working-ish hours."""
    if end <= start:
        return start
    span_days = (end - start).days
    day = start + timedelta(days=rng.randint(0, max(span_days, 0)))
    t = day.replace(hour=rng.randint(8, 21), minute=rng.randint(0, 59), second=0)
    if t < start:
        t = start
    if t > end:
        t = end
    return t


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def age_on(birth: date, today: date) -> int:
    a = today.year - birth.year
    if (today.month, today.day) < (birth.month, birth.day):
        a -= 1
    return a


def ascii_slug(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return "".join(c for c in s.lower() if c.isalnum() or c in ".-")


def rand_birth(rng: random.Random, first_year: int, last_year: int) -> date:
    start = date(first_year, 1, 1)
    end = date(last_year, 12, 31)
    return start + timedelta(days=rng.randint(0, (end - start).days))


def dumps(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


# Obviously fictional people: ordinary first names, invented surnames.
FIRST_NAMES = [
    "Ada", "Bram", "Cora", "Dmitri", "Elsie", "Farid", "Greta", "Hugo", "Imani", "Jonas",
    "Kiri", "Lorcan", "Mabel", "Nico", "Odette", "Priya", "Quentin", "Rosalind", "Silas", "Tova",
    "Umar", "Vesna", "Wren", "Xavier", "Yara", "Zeke", "Anouk", "Bartholomew", "Céleste", "Dov",
    "Esmé", "Fintan", "Gwen", "Harlan", "Inès", "Jasper", "Kalani", "Linnea", "Matteo", "Noor",
    "Orla", "Pádraig", "Renée", "Soren", "Thandiwe", "Ulla", "Viggo", "Winifred", "Yusuf", "Zofia",
    "Amara", "Benedikt", "Clementine", "Dashiell", "Elodie", "Florian", "Hélène", "Ivo", "Juniper", "Lazlo",
]
SURNAMES = [
    "Quill", "Thistlewood", "Marrowby", "Fennimore", "Ploverbrook", "Gorsewick", "Hazelgrove",
    "Inkwell", "Juniperhollow", "Kettleburn", "Larkspur", "Mossbank", "Nettlefield", "Oakhaven",
    "Pebbleton", "Quarrystone", "Rookwood", "Saltmarsh", "Tanglefoot", "Underhill", "Vetchley",
    "Wicklow-Dunn", "Yarrowby", "Zephyrine", "Applethorpe", "Brambleton", "Cinderford", "Dewberry",
    "Elderflower", "Foxglove", "Gildersleeve", "Honeysett", "Ivybridge", "Juddington", "Kestrelmoor",
    "Lindenbaum", "Marchbanks", "Nightingale-Ruiz", "Ottersby", "Puddleford", "Quenby", "Ravensworth",
    "Sparrowhawk", "Thornquist", "Umberleigh", "Valeworth", "Willowmere", "Yellowhammer", "Zanderby",
    "Ashcombe", "Birchwhistle", "Copperkettle", "Duskwater", "Emberly", "Frostholm", "Glimmerdale",
    "Heronsgate", "Icklesham", "Jollybrook", "Knotweed",
]
DOMAINS = ["example.org", "example.com", "example.net"]

# Emails already used by any tenant: nobody appears in two tenants by accident. The only
# people in two tenants are the deliberate shared customers of the two retail clients.
ALL_EMAILS: set[str] = set()


class People:
    """Unique names, emails and phones within one tenant."""

    def __init__(self, rng: random.Random, email_tag: str = ""):
        self.rng = rng
        self.names: set[str] = set()
        self.emails: set[str] = set()
        self.phones: set[str] = set()
        self.email_tag = email_tag

    def name(self, surname: str | None = None) -> tuple[str, str]:
        for _ in range(10_000):
            first = self.rng.choice(FIRST_NAMES)
            last = surname or self.rng.choice(SURNAMES)
            full = f"{first} {last}"
            if full not in self.names:
                self.names.add(full)
                return first, last
        raise RuntimeError("ran out of names")

    def claim_name(self, first: str, last: str) -> None:
        self.names.add(f"{first} {last}")

    def email(self, first: str, last: str) -> str:
        base = f"{ascii_slug(first)}.{ascii_slug(last)}{self.email_tag}"
        domain = self.rng.choice(DOMAINS)
        n = 0
        while True:
            local = base if n == 0 else f"{base}{n + 1}"
            e = f"{local}@{domain}"
            if e not in self.emails and e not in ALL_EMAILS:
                self.emails.add(e)
                ALL_EMAILS.add(e)
                return e
            n += 1

    def claim_email(self, e: str) -> None:
        assert e not in self.emails, e
        self.emails.add(e)

    def phone(self, area_codes: list[int]) -> str | None:
        """+1 AAA 555 01xx: the range reserved for fiction. None when every pool is used."""
        codes = list(area_codes)
        self.rng.shuffle(codes)
        for code in codes:
            start = self.rng.randint(0, 99)
            for k in range(100):
                p = f"+1{code}55501{(start + k) % 100:02d}"
                if p not in self.phones:
                    self.phones.add(p)
                    return p
        return None


def field(category, value, purposes, source, store, at) -> dict:
    return {
        "category": category,
        "value": value,
        "purposes": list(purposes),
        "source": source,
        "store": store,
        "collected_at": ts(at),
    }


def grant(purpose, kind, channel, at, *, shown=None, event=None, parent_email=None) -> dict:
    ev = {"channel": channel}
    if shown is not None:
        ev["shown"] = shown
    if event is not None:
        ev["event"] = event
    c = {"purpose": purpose, "kind": kind, "evidence": ev, "at": ts(at)}
    if parent_email is not None:
        c["parent"] = {"email": parent_email}
    return c


def withdraw(purpose, channel, at, shown) -> dict:
    return {
        "purpose": purpose,
        "action": "withdraw",
        "kind": "express",
        "evidence": {"channel": channel, "shown": shown},
        "at": ts(at),
    }


def sort_consents(consents: list[dict]) -> list[dict]:
    # Stable sort by time: the ledger is appended in time order.
    return sorted(consents, key=lambda c: c["at"])


def ip_address(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return f"2001:db8:{rng.randint(1, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}"
    net = rng.choice(["192.0.2", "198.51.100", "203.0.113"])
    return f"{net}.{rng.randint(1, 254)}"


# ===================================================================== profile R

R_REGIONS = [
    # (region, weight, area codes, postal generator)
    ("SK", 45, [306, 639]),
    ("AB", 10, [403, 587]),
    ("ON", 15, [416, 647]),
    ("QC", 15, [514, 418]),
    ("US-CA", 15, [415, 213, 916]),
]
R_FSA = {
    "SK": ["S7H", "S7J", "S7K", "S7L", "S7M", "S7N", "S7V", "S4P", "S4S", "S6V"],
    "AB": ["T2P", "T3A", "T5J", "T6E"],
    "ON": ["M5V", "M4C", "K1P", "L8P"],
    "QC": ["H2X", "H3A", "G1R", "J8Y"],
}
R_ZIPS = ["94110", "94612", "90012", "90405", "95814", "92101", "95060", "93101"]

GENDERS = ["Woman", "Woman", "Woman", "Man", "Man", "Man", "Non-binary", "Two-Spirit", "Self-described: genderfluid"]
RACE = ["White", "South Asian", "Chinese", "Black", "Filipino", "First Nations", "Métis", "Arab",
        "Latin American", "Southeast Asian", "Korean", "Mixed (White and Japanese)", "Inuk (Inuit)"]
RELIGION = ["Christian (Catholic)", "Christian (United Church)", "Muslim", "Sikh", "Jewish", "Hindu",
            "Buddhist", "No religion", "Traditional Indigenous spirituality", "Spiritual, no affiliation"]
ORIENTATION = ["Heterosexual", "Heterosexual", "Gay", "Lesbian", "Bisexual", "Asexual", "Queer"]
POLITICAL = ["Leans centre-left", "Leans centre-right", "Left", "Right", "Centre", "Green-leaning",
             "Not interested in politics", "Undecided"]
HEALTH = ["Type 2 diabetes (self-reported)", "Seasonal allergies", "No chronic conditions reported",
          "Asthma, uses an inhaler", "Wears a hearing aid", "Migraine, several times a month",
          "High blood pressure, on medication", "Coeliac disease", "Recovering from knee surgery",
          "Smokes about 5 cigarettes a day", "Walks 30 minutes most days", "Sleeps under 6 hours most nights"]
HEALTH_YOUTH = ["Seasonal allergies", "Asthma, uses an inhaler", "No chronic conditions reported",
                "Plays hockey 3 times a week"]

STUDIES = [
    # (code, topic, start, end, answers)
    ("PR-2023-002", "grocery shopping habits", dt(2023, 2, 1), dt(2023, 4, 30),
     ["Shops weekly; prefers local produce", "Shops online twice a month", "Compares flyers before shopping"]),
    ("PR-2023-011", "prairie winter driving", dt(2023, 10, 15), dt(2024, 1, 31),
     ["Uses winter tires from November", "Avoids highway driving in storms", "Keeps an emergency kit in the car"]),
    ("PR-2024-004", "streaming and TV", dt(2024, 3, 1), dt(2024, 6, 15),
     ["Three streaming subscriptions; cancelled cable", "Watches news on TV daily", "Mostly watches sports"]),
    ("PR-2024-013", "health and wellness apps", dt(2024, 8, 1), dt(2024, 11, 30),
     ["Uses a step counter; ignores diet apps", "Tracks sleep every night", "Stopped using a meditation app"]),
    ("PR-2025-003", "banking and payments", dt(2025, 1, 10), dt(2025, 4, 30),
     ["Pays by phone tap almost always", "Still writes cheques for rent", "Switched banks for lower fees"]),
    ("PR-2025-014", "local food and farmers' markets", dt(2025, 6, 1), dt(2025, 9, 30),
     ["Buys eggs and honey at the market", "Would pay 10% more for local", "Rarely goes; prices too high"]),
    ("PR-2025-021", "civic attitudes", dt(2025, 10, 1), dt(2026, 1, 31),
     ["Votes in every election", "Volunteers at the food bank", "Trusts local news most"]),
    ("PR-2026-006", "home energy use", dt(2026, 2, 1), dt(2026, 5, 31),
     ["Installed a heat pump", "Plans solar panels in 2027", "Keeps the thermostat at 19 °C"]),
    ("PR-2026-012", "youth and screen time", dt(2026, 6, 1), dt(2026, 11, 15),
     ["About 3 hours of screen time on school days", "Uses a phone mostly for messaging", "Plays games on weekends"]),
]
SENSITIVE_CATS = [
    ("user.demographic.race_ethnicity", RACE),
    ("user.demographic.religious_belief", RELIGION),
    ("user.demographic.sexual_orientation", ORIENTATION),
    ("user.demographic.political_opinion", POLITICAL),
    ("user.health_and_medical", HEALTH),
]

R_NOTICE = "Panel consent notice v3"
R_NOTICE_OLD = "Panel consent notice v2"
R_CLIENT_NOTICE = "Client reporting consent, study-specific, v1"
R_NEWS_NOTICE = "Newsletter opt-in checkbox v2"


def residence_of(region: str) -> str:
    """The coarse residence (ISO 3166-2) recorded for a panel member's region."""
    return region if "-" in region else f"CA-{region}"


def r_postal(rng: random.Random, region: str) -> str:
    if region == "US-CA":
        return rng.choice(R_ZIPS)
    fsa = rng.choice(R_FSA[region])
    return f"{fsa} {rng.randint(0, 9)}{rng.choice('ABCEGHJKLMNPRSTVWXYZ')}{rng.randint(0, 9)}"


def r_bank(rng: random.Random, region: str) -> str:
    if region == "US-CA":
        return f"routing 000000{rng.randint(100, 999)} / account {rng.randint(10_000_000, 99_999_999)}"
    return f"institution 000 / transit {rng.randint(10000, 99999)} / account {rng.randint(1_000_000, 9_999_999)}"


def adult_studies_after(start: datetime) -> list[tuple]:
    """Studies still running 3 days after `start` (the youth study is for minors only)."""
    return [s for s in STUDIES if s[0] != "PR-2026-012" and s[3] >= start + timedelta(days=3) and s[2] <= LATEST]


def r_adult(rng: random.Random, people: People, region: str | None = None, *, young: bool = False) -> dict:
    """A panel member: returns an internal record (the row plus facts used for children)."""
    if region is None:
        region = rng.choices([r[0] for r in R_REGIONS], weights=[r[1] for r in R_REGIONS])[0]
    codes = next(r[2] for r in R_REGIONS if r[0] == region)
    first, last = people.name()
    email = people.email(first, last)
    phone = people.phone(codes) if rng.random() < 0.85 else None
    if young:
        # 16 or 17 today, joined on their own after turning 16 (no parent needed: R17 boundary).
        birth = rand_birth(rng, 2009, 2010)
        while add_years(birth, 16) >= date(2026, 9, 1):
            birth = rand_birth(rng, 2009, 2010)
        sixteen = add_years(birth, 16)
        join = rand_time(rng, dt(sixteen.year, sixteen.month, sixteen.day) + timedelta(days=14), dt(2026, 10, 15))
    else:
        birth = rand_birth(rng, 1946, 2004)
        join = rand_time(rng, dt(2023, 1, 5), dt(2026, 10, 15))
    postal = r_postal(rng, region)

    consents: list[dict] = []
    notice = R_NOTICE if join >= dt(2025, 6, 1) else R_NOTICE_OLD
    consents.append(grant("research", "express", "web", join, shown=notice))

    # marketing.email: express at sign-up, implied (an inquiry or a report purchase shortly
    # before joining), or none.
    marketing_ok = False
    roll = rng.random()
    if roll < 0.30:
        consents.append(grant("marketing.email", "express", "web", join, shown=R_NEWS_NOTICE))
        marketing_ok = True
    elif roll < 0.45:
        ev = "inquiry" if rng.random() < 0.6 else "purchase"
        back = timedelta(days=rng.randint(1, 60) if ev == "inquiry" else rng.randint(5, 300))
        when = max(join - back, dt(2023, 1, 2))
        consents.append(grant("marketing.email", "implied", "web", when, event=ev))
        marketing_ok = True
        # A few later say yes expressly, which replaces the lapsing implied consent.
        if rng.random() < 0.25:
            consents.append(grant("marketing.email", "express", "email", join, shown=R_NEWS_NOTICE))

    # client_reporting: express, at sign-up for some.
    client_at_join = rng.random() < 0.35
    if client_at_join:
        consents.append(grant("client_reporting", "express", "web", join, shown=R_CLIENT_NOTICE))

    paid = rng.random() < 0.45
    src = "signup-form"
    fields = []
    mk = ["marketing.email"] if marketing_ok else []
    pay = ["incentive_payment", "legal_compliance"] if paid else []
    fields.append(field("user.name", f"{first} {last}", ["panel_management", "research", *mk, *pay], src, "primary", join))
    fields.append(field("user.contact.email", email,
                        ["panel_management", "research", *mk, *(["incentive_payment"] if paid else [])], src, "primary", join))
    if phone:
        fields.append(field("user.contact.phone_number", phone, ["panel_management", "research"], src, "primary", join))
    cr = ["client_reporting"] if client_at_join else []
    fields.append(field("user.contact.address.postal_code", postal,
                        ["panel_management", "research", "analytics.aggregate", *cr, *pay], src, "primary", join))
    fields.append(field("user.demographic.date_of_birth", birth.isoformat(),
                        ["panel_management", "research", "analytics.aggregate", *cr], src, "primary", join))
    if rng.random() < 0.9:
        fields.append(field("user.demographic.gender", rng.choice(GENDERS),
                            ["panel_management", "research", "analytics.aggregate", *cr], "profile-survey", "primary", join))

    # Studies after joining: survey answers, sometimes sensitive profile questions.
    avail = adult_studies_after(join)
    rng.shuffle(avail)
    n_studies = min(len(avail), rng.choice([1, 1, 2, 2, 3]))
    chosen = sorted(avail[:n_studies], key=lambda s: s[2])
    client_since = join if client_at_join else None  # when client_reporting was granted
    study_times = []
    for code, topic, s0, s1, answers in chosen:
        t = rand_time(rng, max(s0, join + timedelta(days=3)), min(s1, LATEST))
        study_times.append(t)
        if client_since is None and rng.random() < 0.3:
            client_since = t - timedelta(minutes=5)
            consents.append(grant("client_reporting", "express", "web", client_since, shown=R_CLIENT_NOTICE))
        crs = ["client_reporting"] if client_since is not None else []
        if rng.random() < 0.2:
            value = f"Study {code} ({topic}), recorded interview {code}-{rng.randint(1, 240):03d}: {rng.choice(answers)}"
            fields.append(field("user.content.survey_response", value, ["research", *crs], "phone-interview", "media", t))
        else:
            value = f"Study {code} ({topic}): {rng.choice(answers)}"
            fields.append(field("user.content.survey_response", value, ["research", *crs], "study-survey", "primary", t))

    # Sensitive categories, asked in a profile survey at the first study (65% of people).
    if study_times and rng.random() < 0.65:
        t = study_times[0] + timedelta(minutes=12)
        cats = list(SENSITIVE_CATS)
        rng.shuffle(cats)
        for cat, values in cats[: rng.choice([1, 1, 2, 2, 3])]:
            crs = ["client_reporting"] if client_since is not None and client_since <= t else []
            fields.append(field(cat, rng.choice(values), ["research", *crs], "study-survey", "primary", t))

    if paid and study_times:
        t = study_times[0] + timedelta(days=rng.randint(1, 10))
        t = min(t, LATEST)
        fields.append(field("user.financial.bank_account", r_bank(rng, region),
                            ["incentive_payment", "legal_compliance"], "payment-form", "primary", t))

    if rng.random() < 0.5:
        t = rand_time(rng, max(join, dt(2026, 5, 1)), LATEST)
        fields.append(field("user.device.ip_address", ip_address(rng), ["analytics.aggregate"], "website", "primary", t))

    # Keep 6 to 10 fields: drop surplus optional fields from the end (never the identity ones).
    while len(fields) > 10:
        for i in range(len(fields) - 1, -1, -1):
            if fields[i]["category"] not in ("user.name", "user.contact.email", "user.demographic.date_of_birth"):
                fields.pop(i)
                break
    if len(fields) < 6:
        t = rand_time(rng, max(join, dt(2026, 5, 1)), LATEST)
        fields.append(field("user.device.ip_address", ip_address(rng), ["analytics.aggregate"], "website", "primary", t))

    # Withdrawals, after the last collection: newsletter opt-outs (R3, R13) and a few
    # who leave research altogether.
    last_at = max(datetime.strptime(f["collected_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) for f in fields)
    if marketing_ok and rng.random() < 0.25 and last_at + timedelta(days=2) < LATEST:
        consents.append(withdraw("marketing.email", "email", rand_time(rng, last_at + timedelta(days=1), LATEST),
                                 "One-click unsubscribe link in the newsletter"))
    if rng.random() < 0.04 and last_at + timedelta(days=2) < LATEST:
        consents.append(withdraw("research", "phone", rand_time(rng, last_at + timedelta(days=1), LATEST),
                                 "Asked by phone to stop taking part in studies"))

    row = {"identifiers": {"email": email}, "birth_date": birth.isoformat(), "residence": residence_of(region),
           "fields": fields, "consents": sort_consents(consents)}
    if phone:
        row["identifiers"]["phone"] = phone
    return {"row": row, "first": first, "last": last, "email": email, "region": region,
            "postal": postal, "join": join, "phone": phone}


def r_prospect(rng: random.Random, people: People, when: datetime, event: str) -> dict:
    """Someone who only asked about the panel, or bought a report: marketing only (R2)."""
    first, last = people.name()
    email = people.email(first, last)
    src = "inquiry-form" if event == "inquiry" else "report-store"
    fields = [
        field("user.name", f"{first} {last}", ["marketing.email"], src, "primary", when),
        field("user.contact.email", email, ["marketing.email"], src, "primary", when),
        field("user.device.ip_address", ip_address(rng), ["analytics.aggregate"], "website", "primary", when),
    ]
    consents = [grant("marketing.email", "implied", "web", when, event=event)]
    return {"row": {"identifiers": {"email": email}, "fields": fields, "consents": consents}}


def r_minor(rng: random.Random, people: People, parent: dict) -> dict:
    """A child of an earlier panel member, under 16 today; every purpose has a parent's consent (R17)."""
    first, _ = people.name(surname=parent["last"])
    last = parent["last"]
    email = people.email(first, last)
    birth = rand_birth(rng, 2011, 2013)
    while age_on(birth, TODAY) >= 16 or age_on(birth, TODAY) < 12:
        birth = rand_birth(rng, 2011, 2013)
    twelve = add_years(birth, 12)
    start = max(parent["join"] + timedelta(days=7), dt(2024, 6, 1), dt(twelve.year, twelve.month, twelve.day))
    join = rand_time(rng, start, dt(2026, 10, 15))
    pe = parent["email"]
    consents = [grant("research", "parental", "mail", join - timedelta(days=2), shown="Parental consent form v2", parent_email=pe)]
    client = rng.random() < 0.4
    if client:
        consents.append(grant("client_reporting", "parental", "mail", join - timedelta(days=2),
                              shown="Parental consent form v2 (client reporting box ticked)", parent_email=pe))
    crs = ["client_reporting"] if client else []
    src = "parent-consent-form"
    fields = [
        field("user.name", f"{first} {last}", ["panel_management", "research"], src, "primary", join),
        field("user.contact.email", email, ["panel_management", "research"], src, "primary", join),
        field("user.contact.address.postal_code", parent["postal"], ["panel_management", "research", "analytics.aggregate"], src, "primary", join),
        field("user.demographic.date_of_birth", birth.isoformat(), ["panel_management", "research", "analytics.aggregate"], src, "primary", join),
        field("user.demographic.gender", rng.choice(GENDERS[:7]), ["panel_management", "research", "analytics.aggregate", *crs], src, "primary", join),
    ]
    avail = [s for s in STUDIES if s[3] >= join + timedelta(days=3) and s[2] <= LATEST]
    youth = [s for s in avail if s[0] == "PR-2026-012"]
    other = [s for s in avail if s[0] != "PR-2026-012"]
    chosen = youth + other[:1] if youth else other[:2]
    if not chosen:
        chosen = [STUDIES[-1]]
    for code, topic, s0, s1, answers in sorted(chosen, key=lambda s: s[2]):
        t = rand_time(rng, max(s0, join + timedelta(days=3)), min(s1, LATEST))
        t = max(t, join + timedelta(hours=1))
        fields.append(field("user.content.survey_response", f"Study {code} ({topic}): {rng.choice(answers)}",
                            ["research", *crs], "study-survey", "primary", t))
    if rng.random() < 0.3:
        fields.append(field("user.health_and_medical", rng.choice(HEALTH_YOUTH), ["research", *crs], "study-survey", "primary",
                            datetime.strptime(fields[-1]["collected_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) + timedelta(minutes=8)))
    row = {"identifiers": {"email": email}, "birth_date": birth.isoformat(), "residence": residence_of(parent["region"]),
           "fields": fields, "consents": consents}
    return {"row": row}


def gen_research() -> list[dict]:
    rng = random.Random(20260115)
    people = People(rng)
    adults = [r_adult(rng, people) for _ in range(271)]
    adults += [r_adult(rng, people, region="SK", young=True) for _ in range(2)]
    # Prospects: implied consent only. Some already lapsed by 2026-11-25, some live.
    prospects = []
    for when, ev in [
        (dt(2026, 3, 12, 10, 4), "inquiry"),   # 8 months ago: lapsed 2026-09-12
        (dt(2026, 2, 2, 15, 30), "inquiry"),   # lapsed 2026-08-02
        (dt(2025, 11, 20, 9, 15), "inquiry"),  # lapsed 2026-05-20
        (dt(2026, 8, 30, 11, 0), "inquiry"),   # live until 2027-02-28
        (dt(2026, 10, 5, 14, 45), "inquiry"),  # live until 2027-04-05
        (dt(2026, 11, 18, 16, 20), "inquiry"), # live until 2027-05-18
        (dt(2024, 6, 3, 12, 0), "purchase"),   # lapsed 2026-06-03
        (dt(2024, 11, 1, 8, 30), "purchase"),  # lapsed 2026-11-01
        (dt(2024, 12, 2, 13, 10), "purchase"), # live until 2026-12-02 (lapses in a week)
        (dt(2025, 9, 9, 17, 5), "purchase"),   # live until 2027-09-09
        (dt(2026, 4, 22, 10, 40), "purchase"), # live until 2028-04-22
        (dt(2023, 5, 17, 9, 0), "purchase"),   # lapsed 2025-05-17
    ]:
        prospects.append(r_prospect(rng, people, when, ev))
    order = adults + prospects
    rng.shuffle(order)
    # Minors: each placed somewhere after its parent (an adult panel member, not a "young" one).
    parent_pool = [i for i, p in enumerate(order) if "join" in p and age_on(date.fromisoformat(p["row"]["birth_date"]), TODAY) >= 30]
    parent_pool = parent_pool[: len(parent_pool) * 3 // 4]
    rng.shuffle(parent_pool)
    parents = sorted(parent_pool[:15])
    inserts = []
    for pi in parents:
        child = r_minor(rng, people, order[pi])
        inserts.append((rng.randint(pi + 1, len(order)), pi, child))
    # Insert from the back so earlier indices stay valid; stable for equal positions.
    for pos, _, child in sorted(inserts, key=lambda x: (x[0], x[1]), reverse=True):
        order.insert(pos, child)
    rows = []
    for i, p in enumerate(order, start=1):
        row = p["row"]
        row["identifiers"]["external_id"] = f"R-{i:06d}"
        rows.append(order_row(row))
    return rows


def order_row(row: dict) -> dict:
    """Fixed key order for readability: identifiers, birth_date, fields, consents."""
    ids = row["identifiers"]
    out = {"identifiers": {k: ids[k] for k in ("email", "phone", "external_id") if k in ids}}
    if "birth_date" in row:
        out["birth_date"] = row["birth_date"]
    if "residence" in row:
        out["residence"] = row["residence"]
    out["fields"] = row["fields"]
    out["consents"] = row["consents"]
    return out


# Bad rows for the import-error demo. Each breaks exactly ONE rule; otherwise valid for
# prairie-research. They are listed in this order in bad-rows.jsonl.
def gen_bad_rows() -> list[str]:
    t = "2026-09-14T10:00:00Z"
    research = {"purpose": "research", "kind": "express", "evidence": {"channel": "web", "shown": R_NOTICE}, "at": t}

    def f(cat, value, purposes, store="primary", source="signup-form"):
        return {"category": cat, "value": value, "purposes": purposes, "source": source, "store": store, "collected_at": t}

    def base(n, email=None, extra_fields=(), consents=None, birth="1984-07-09", name=None):
        e = email or f"bad-row-{n:02d}@example.net"
        return {
            "identifiers": {"email": e, "external_id": f"R-BAD-{n:02d}"},
            "birth_date": birth,
            "fields": [f("user.name", name or f"Bad Row {n:02d} Testperson", ["panel_management", "research"]),
                       f("user.contact.email", e if "@" in e else f"bad-row-{n:02d}@example.net", ["panel_management", "research"]),
                       *extra_fields],
            "consents": [research] if consents is None else consents,
        }

    rows = [
        # 1. unknown category: user.biometric.fingerprint is not in the policy.
        dumps(base(1, extra_fields=[f("user.biometric.fingerprint", "fp:9f2c…", ["research"])])),
        # 2. a consent-basis purpose without consent: marketing.email on the email field,
        #    and no marketing.email grant in consents.
        dumps(base(2, extra_fields=[f("user.contact.email", "bad-row-02.news@example.net", ["marketing.email"])])),
        # 3. a minor (13 on 2026-11-25, policy age 16) with no parental consent: the child's
        #    own express consent is not enough (R17).
        dumps(base(3, birth="2013-05-02")),
        # 4. malformed identifier: the email has no @.
        dumps(base(4, email="bad-row-04(at)example.net")),
        # 5. not JSON: a line cut off in the middle.
        '{"identifiers":{"email":"bad-row-05@example.net","external_id":"R-BAD-05"},"fields":[{"category":"user.name","value":"Bad Row 05',
        # 6. category not allowed for the purpose: panel_management (contract) may not use health data.
        dumps(base(6, extra_fields=[f("user.health_and_medical", "Asthma", ["panel_management"])])),
        # 7. store that does not hold the category: the media store holds only survey responses.
        dumps(base(7, extra_fields=[f("user.financial.bank_account", "institution 000 / transit 11111 / account 2222222",
                                      ["incentive_payment"], store="media", source="payment-form")])),
        # 8. implied consent whose event names no implied_consent rule (only purchase and inquiry do).
        dumps(base(8, extra_fields=[f("user.contact.email", "bad-row-08.news@example.net", ["marketing.email"])],
                   consents=[research, {"purpose": "marketing.email", "kind": "implied",
                                        "evidence": {"channel": "web", "event": "webinar"}, "at": t}])),
        # 9. parental consent naming a parent who is not an earlier row of the file.
        dumps(base(9, birth="2012-03-03", consents=[{"purpose": "research", "kind": "parental",
                                                     "evidence": {"channel": "mail", "shown": "Parental consent form v2"},
                                                     "at": t, "parent": {"email": "nobody-here@example.org"}}])),
    ]
    return rows


# ===================================================================== profile S: platform


def gen_platform() -> list[dict]:
    rng = random.Random(20260301)
    people = People(rng)
    companies = ["Cedar & Sage Candles", "Lakeshore Bikes", "Marigold Tea House", "Tin Roof Records", "Pinecone Press",
                 "Harbour Knitwear", "Golden Hour Optics", "Driftwood Pottery", "Sunday Soap Co.", "Compass Rose Maps"]
    us_places = [("Portland, OR", "972", [503, 971]), ("Sacramento, CA", "958", [916]), ("Oakland, CA", "946", [510]),
                 ("Austin, TX", "787", [512]), ("Denver, CO", "802", [303, 720]), ("Brooklyn, NY", "112", [718, 347])]
    # Coarse residence (ISO 3166) of each place, for breach counts per jurisdiction.
    eu_residence = {"Berlin": "DE", "Lyon": "FR", "Utrecht": "NL", "Valencia": "ES"}
    eu_places = [("Beispielstraße {n}, {z} Berlin, Germany", "101"), ("Rue de l'Exemple {n}, {z} Lyon, France", "690"),
                 ("Voorbeeldstraat {n}, {z} Utrecht, Netherlands", "351"), ("Calle Ejemplo {n}, {z} Valencia, Spain", "460")]
    rows = []
    for i in range(60):
        first, last = people.name()
        email = people.email(first, last)
        eu = rng.random() < 0.2
        if eu:
            tmpl, zp = rng.choice(eu_places)
            address = tmpl.format(n=rng.randint(1, 99), z=f"{zp}{rng.randint(10, 99)}")
            phone = None
            residence = next(v for k, v in eu_residence.items() if k in tmpl)
        else:
            city, zp, codes = rng.choice(us_places)
            residence = "US-" + city[-2:]
            address = f"{rng.randint(10, 999)} Example {rng.choice(['Street', 'Avenue', 'Road', 'Way'])}, {city} {zp}{rng.randint(10, 99)}"
            phone = people.phone(codes) if rng.random() < 0.6 else None
        signup = rand_time(rng, dt(2023, 1, 10), dt(2026, 11, 1))
        username = f"{ascii_slug(first)}{ascii_slug(last)[:4]}{rng.randint(1, 99)}"
        consents = []
        mk = []
        if rng.random() < 0.5:
            consents.append(grant("marketing.email", "express", "web", signup, shown="Newsletter checkbox at sign-up"))
            mk = ["marketing.email"]
            if rng.random() < 0.25:
                consents.append(withdraw("marketing.email", "email", rand_time(rng, signup + timedelta(days=20), LATEST),
                                         "One-click unsubscribe link in the newsletter"))
        src = "signup-form"
        fields = [
            field("user.name", f"{first} {last}", ["service_delivery", "billing", "legal_compliance", *mk], src, "primary", signup),
            field("user.contact.email", email, ["service_delivery", "billing", "security", "legal_compliance", *mk], src, "primary", signup),
            field("user.account.username", username, ["service_delivery", "security"], src, "primary", signup),
        ]
        if phone:
            fields.append(field("user.contact.phone_number", phone, ["service_delivery"], "account-settings", "primary", signup + timedelta(minutes=3)))
        billed = signup + timedelta(days=rng.randint(0, 14))
        company = rng.choice(companies)
        fields.append(field("user.contact.address", f"{company}, {address}", ["billing", "legal_compliance", "analytics.aggregate"],
                            "billing-page", "primary", billed))
        fields.append(field("user.device.ip_address", ip_address(rng), ["security", "analytics.aggregate"], "web-app",
                            "primary", rand_time(rng, max(signup, dt(2026, 1, 1)), LATEST)))
        row = {"identifiers": {"email": email, "external_id": f"RM-{i + 1:05d}"}, "residence": residence, "fields": fields,
               "consents": sort_consents(consents)}
        if phone:
            row["identifiers"]["phone"] = phone
        rows.append(order_row(row))
    return rows


# ===================================================================== profile S: clients

NORTHWIND_ITEMS = ["2-person trail tent", "headlamp", "merino base layer", "40 L backpack", "trekking poles", "rain shell",
                   "camp stove", "water filter", "down sleeping bag", "hiking boots", "wool socks (3-pack)", "kayak paddle"]
BLUEBIRD_ITEMS = ["sourdough loaf", "blueberry muffins (6)", "birthday cake, 8 inch", "croissants (4)", "cinnamon buns (6)",
                  "rye bread", "lemon tart", "gluten-free brownies", "baguette", "custom cupcakes (12)"]


def gen_client(tenant: str, seed: int, prefix: str, items: list[str], zips: list[str], codes: list[int],
               parental_age: int, shared: list[tuple[str, str, str]], n_rows: int, n_minors: int,
               n_young_teens: int) -> list[dict]:
    """A retail client's consumers. `shared` are (first, last, email) who are customers of
    both clients: the same person in two tenants, kept apart (S2)."""
    rng = random.Random(seed)
    people = People(rng)
    for first, last, email in shared:
        people.claim_name(first, last)
        people.claim_email(email)
    recs = []
    shared_queue = list(shared)
    n_adults = n_rows - n_minors - n_young_teens
    for i in range(n_adults):
        if shared_queue and rng.random() < 0.15:
            first, last, email = shared_queue.pop(0)
        else:
            first, last = people.name()
            email = people.email(first, last)
        recs.append(client_adult(rng, people, first, last, email, items, zips, codes))
    while shared_queue:  # anyone not yet placed goes at the end of the adults
        first, last, email = shared_queue.pop(0)
        recs.append(client_adult(rng, people, first, last, email, items, zips, codes))
    # Teens who may consent for themselves under this policy (13+ where the age is 13).
    for _ in range(n_young_teens):
        recs.append(client_teen(rng, people, items, zips))
    # Minors under this policy's age, signed up by a parent who is an earlier row.
    if n_minors:
        pool = [k for k, r in enumerate(recs) if r.get("adult") and r["age"] >= 30]
        pool = pool[: len(pool) // 2]
        rng.shuffle(pool)
        for pk in sorted(pool[:n_minors]):
            child = client_minor(rng, people, recs[pk], parental_age)
            recs.insert(rng.randint(pk + 1, len(recs)), child)
    rows = []
    for i, r in enumerate(recs, start=1):
        r["row"]["identifiers"]["external_id"] = f"{prefix}-{i:06d}"
        rows.append(order_row(r["row"]))
    return rows


def client_adult(rng, people, first, last, email, items, zips, codes) -> dict:
    first_order = rand_time(rng, dt(2023, 1, 3), dt(2026, 11, 10))
    phone = people.phone(codes) if rng.random() < 0.55 else None
    consents = []
    # marketing.email: express newsletter sign-up at checkout, implied by the purchase, or none.
    roll = rng.random()
    kind = "express" if roll < 0.40 else ("implied" if roll < 0.75 else None)
    sms = phone is not None and rng.random() < 0.35
    rewards = kind == "express" and rng.random() < 0.5
    birth = rand_birth(rng, 1950, 2005) if rewards else None

    n_orders = rng.choice([1, 1, 2, 2, 3])
    orders = [first_order]
    for _ in range(n_orders - 1):
        nxt = orders[-1] + timedelta(days=rng.randint(20, 400))
        if nxt > LATEST:
            break
        orders.append(nxt)

    if kind == "express":
        consents.append(grant("marketing.email", "express", "web", first_order, shown="Newsletter checkbox at checkout"))
    elif kind == "implied":
        for o in orders:  # every purchase starts the 2-year clock again
            consents.append(grant("marketing.email", "implied", "web", o, event="purchase"))
    if sms:
        consents.append(grant("marketing.sms", "express", "web", first_order, shown="SMS offers opt-in (reply Y to confirm)"))
    mk = ["marketing.email"] if kind else []
    sm = ["marketing.sms"] if sms else []
    src = "checkout"
    fields = [
        field("user.name", f"{first} {last}", ["order_updates", *mk, *sm], src, "primary", first_order),
        field("user.contact.email", email, ["order_updates", *mk], src, "primary", first_order),
    ]
    if phone:
        fields.append(field("user.contact.phone_number", phone, ["order_updates", *sm], src, "primary", first_order))
    if rng.random() < 0.7:
        fields.append(field("user.contact.address.postal_code", rng.choice(zips), ["order_updates", "analytics.aggregate"], src, "primary", first_order))
    for o in orders:
        basket = ", ".join(sorted({rng.choice(items) for _ in range(rng.randint(1, 3))}))
        fields.append(field("user.behavior.purchase_history", f"Order on {o.date().isoformat()}: {basket}",
                            ["order_updates", "analytics.aggregate", *mk], "online-store" if rng.random() < 0.6 else "store-till", "primary", o))
    if birth:
        fields.append(field("user.demographic.date_of_birth", birth.isoformat(), ["marketing.email", "analytics.aggregate"],
                            "rewards-signup", "primary", first_order + timedelta(minutes=2)))
    last_order = orders[-1]
    if kind == "express" and rng.random() < 0.2 and last_order + timedelta(days=3) < LATEST:
        consents.append(withdraw("marketing.email", "email", rand_time(rng, last_order + timedelta(days=1), LATEST),
                                 "One-click unsubscribe link in a campaign email"))
    if sms and rng.random() < 0.25 and last_order + timedelta(days=3) < LATEST:
        consents.append(withdraw("marketing.sms", "phone", rand_time(rng, last_order + timedelta(days=1), LATEST),
                                 "Replied STOP to an SMS offer"))
    row = {"identifiers": {"email": email}, "fields": fields, "consents": sort_consents(consents)}
    if phone:
        row["identifiers"]["phone"] = phone
    if birth:
        row["birth_date"] = birth.isoformat()
    return {"row": row, "adult": True, "age": age_on(birth, TODAY) if birth else 40, "email": email,
            "last": last, "first_order": first_order}


def client_teen(rng, people, items, zips) -> dict:
    """14 today: over this policy's age of 13, so consents for themselves."""
    first, last = people.name()
    email = people.email(first, last)
    birth = rand_birth(rng, 2012, 2012)
    thirteen = add_years(birth, 13)
    when = rand_time(rng, dt(thirteen.year, thirteen.month, thirteen.day) + timedelta(days=10), dt(2026, 11, 10))
    consents = [grant("marketing.email", "express", "web", when, shown="Newsletter checkbox at checkout")]
    fields = [
        field("user.name", f"{first} {last}", ["order_updates", "marketing.email"], "checkout", "primary", when),
        field("user.contact.email", email, ["order_updates", "marketing.email"], "checkout", "primary", when),
        field("user.behavior.purchase_history", f"Order on {when.date().isoformat()}: {rng.choice(items)}",
              ["order_updates", "analytics.aggregate", "marketing.email"], "online-store", "primary", when),
        field("user.demographic.date_of_birth", birth.isoformat(), ["marketing.email", "analytics.aggregate"], "rewards-signup", "primary", when),
    ]
    return {"row": {"identifiers": {"email": email}, "birth_date": birth.isoformat(), "fields": fields, "consents": consents}}


def client_minor(rng, people, parent, parental_age) -> dict:
    """Under the policy's age today and at sign-up (13 or over: no under-13 data at all)."""
    first, _ = people.name(surname=parent["last"])
    last = parent["last"]
    email = people.email(first, last)
    while True:
        birth = rand_birth(rng, 2010, 2013)
        # 13 or over at sign-up, which must fit before 2026-11-10.
        if 13 <= age_on(birth, TODAY) < parental_age and add_years(birth, 13) <= date(2026, 11, 1):
            break
    thirteen = add_years(birth, 13)
    start = max(dt(thirteen.year, thirteen.month, thirteen.day) + timedelta(days=5), parent["first_order"] + timedelta(days=1))
    when = rand_time(rng, start, dt(2026, 11, 10))
    pe = parent["email"]
    consents = [grant("marketing.email", "parental", "web", when - timedelta(minutes=10),
                      shown="Birthday club: parent sign-up for a child under 16, v1", parent_email=pe)]
    src = "birthday-club-parent-form"
    fields = [
        field("user.name", f"{first} {last}", ["marketing.email"], src, "primary", when),
        field("user.contact.email", email, ["marketing.email"], src, "primary", when),
        field("user.demographic.date_of_birth", birth.isoformat(), ["marketing.email", "analytics.aggregate"], src, "primary", when),
    ]
    return {"row": {"identifiers": {"email": email}, "birth_date": birth.isoformat(), "fields": fields, "consents": consents}}


def gen_clients() -> tuple[list[dict], list[dict]]:
    # People who shop at both: same name and email in two separate tenants.
    rng = random.Random(7070)
    shared_people = People(rng, email_tag="")
    shared = []
    for _ in range(8):
        first, last = shared_people.name()
        shared.append((first, last, shared_people.email(first, last)))
    northwind = gen_client("northwind-outfitters", 20260201, "NW", NORTHWIND_ITEMS,
                           ["97701", "97702", "97401", "97205", "94110", "95814", "98101"], [541, 503, 206],
                           parental_age=13, shared=shared, n_rows=150, n_minors=0, n_young_teens=1)
    bluebird = gen_client("bluebird-bakery", 20251101, "BB", BLUEBIRD_ITEMS,
                          ["95814", "95816", "95818", "95819", "95825"], [916, 279],
                          parental_age=16, shared=shared, n_rows=150, n_minors=5, n_young_teens=0)
    return northwind, bluebird


# ===================================================================== manifests


def manifests() -> dict[str, str]:
    research = {"tenants": [{
        "id": "prairie-research",
        "name": "Prairie Insights Research Inc.",
        "role": "controller",
        "policy": "policy.yaml",
        "subjects": "subjects.jsonl",
    }]}
    platform = {"tenants": [
        {"id": "relay-platform", "name": "Relay Mail Inc.", "role": "controller",
         "policy": "platform/policy.yaml", "subjects": "platform/subjects.jsonl"},
        {"id": "northwind-outfitters", "name": "Northwind Outfitters (hosted by Relay Mail)", "role": "processor",
         "controller": {"name": "Northwind Outfitters LLC", "contact": "privacy@northwind.example"},
         "policy": "clients/northwind-outfitters/policy.yaml", "subjects": "clients/northwind-outfitters/subjects.jsonl"},
        {"id": "bluebird-bakery", "name": "Bluebird Bakery (hosted by Relay Mail)", "role": "processor",
         "controller": {"name": "Bluebird Bakery Co.", "contact": "privacy@bluebird.example"},
         "policy": "clients/bluebird-bakery/policy.yaml", "subjects": "clients/bluebird-bakery/subjects.jsonl"},
    ]}
    return {
        "research-operator/tenants.json": json.dumps(research, indent=2, ensure_ascii=False) + "\n",
        "marketing-platform/tenants.json": json.dumps(platform, indent=2, ensure_ascii=False) + "\n",
    }


def jsonl(rows: list[dict]) -> str:
    return "".join(dumps(r) + "\n" for r in rows)


def build() -> dict[str, str]:
    ALL_EMAILS.clear()
    research = gen_research()
    platform = gen_platform()
    northwind, bluebird = gen_clients()
    out = {
        "research-operator/subjects.jsonl": jsonl(research),
        "research-operator/bad-rows.jsonl": "".join(line + "\n" for line in gen_bad_rows()),
        "marketing-platform/platform/subjects.jsonl": jsonl(platform),
        "marketing-platform/clients/northwind-outfitters/subjects.jsonl": jsonl(northwind),
        "marketing-platform/clients/bluebird-bakery/subjects.jsonl": jsonl(bluebird),
    }
    out.update(manifests())
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if any file would change")
    args = ap.parse_args()
    changed = []
    for rel, text in sorted(build().items()):
        path = HERE / rel
        data = text.encode("utf-8")
        if path.exists() and path.read_bytes() == data:
            continue
        changed.append(rel)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    for rel in changed:
        print(("would change: " if args.check else "wrote: ") + rel)
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
