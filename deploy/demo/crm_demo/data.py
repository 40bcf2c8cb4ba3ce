"""The demo data set: German-speaking firms at every stage, with their people and history.

Every firm, person, address and number here is invented. Web and mail addresses use
`example.com` subdomains so nothing can ever reach a real mailbox or site.
"""

from __future__ import annotations

from dataclasses import dataclass

STAFF = (
    # (user name, role, display name, language)
    ("demo.mei.lin", "manager", "Mei Lin", "zh"),
    ("demo.jonas.brandt", "officer", "Jonas Brandt", "de"),
    ("demo.xu.hao", "officer", "Xu Hao", "zh"),
)
STAGES = (
    "first_contact",
    "qualified",
    "engaged",
    "negotiating",
    "landed",
    "established_partnership",
)


@dataclass(frozen=True)
class Person:
    full_name: str
    email: str | None
    language: str  # en, de or zh
    timezone: str = "Europe/Berlin"
    country: str | None = None
    phone: str | None = None
    job_title: str | None = None
    email_consent: bool = True


@dataclass(frozen=True)
class Meeting:
    kind: str  # call, email, meeting, site_visit, forum, training, event
    days_ago: int
    summary: str
    with_people: tuple[int, ...] = (0,)  # indexes into the firm's people
    next_step: str | None = None


@dataclass(frozen=True)
class DemoFirm:
    key: str  # stable: part of the Idempotency-Key
    name: str
    country: str
    source: str
    sector: str
    needs: tuple[str, ...]
    stage: str  # where the firm should stand after loading
    people: tuple[Person, ...]
    history: tuple[Meeting, ...] = ()
    local_name: str | None = None
    owner: str = "demo.jonas.brandt"
    investment_eur: int | None = None
    partnership_type: str | None = None
    partners: tuple[tuple[str, str], ...] = ()  # (partner organisation, kind)
    aftercare_owner: str = "demo.xu.hao"
    status: str | None = None  # e.g. on_hold, after the stage is reached
    notes: str | None = None
    credit_seed: int = 0  # makes a unique, checksum-valid credit code

    @property
    def website(self) -> str:
        return f"https://{self.key}.example.com"


def mail(person: str, firm: str) -> str:
    return f"{person}@{firm}.example.com"


FIRMS: tuple[DemoFirm, ...] = (
    # -- first contact ---------------------------------------------------------------
    DemoFirm(
        key="lumenfeld", name="Lumenfeld Optik GmbH", country="DE", source="forum",
        sector="Optical components", needs=("market_access",), stage="first_contact",
        people=(Person("Henrike Lumenfeld", mail("h.lumenfeld", "lumenfeld"), "de",
                       job_title="Geschäftsführerin"),),
        history=(Meeting("forum", 3, "Talked at the Sino-German photonics forum"),),
    ),
    DemoFirm(
        key="donaukante", name="Donaukante Consulting GmbH", country="AT", source="website",
        sector="Management consulting", needs=("licensing",), stage="first_contact",
        people=(Person("Florian Edlinger", mail("f.edlinger", "donaukante"), "de",
                       timezone="Europe/Vienna", country="AT", phone="+43 1 5123456"),),
    ),
    DemoFirm(
        key="quellbit", name="Quellbit Labs GmbH", country="DE", source="event",
        sector="Developer tools (start-up)", needs=("financing", "talent"),
        stage="first_contact",
        people=(Person("Aylin Sommerfeld", mail("aylin", "quellbit"), "en",
                       job_title="Co-founder"),),
        history=(Meeting("event", 6, "Pitched at the Yangpu start-up night"),),
    ),
    # -- qualified -------------------------------------------------------------------
    DemoFirm(
        key="kesselbach", name="Kesselbach Präzisionsteile GmbH", country="DE",
        source="chamber_of_commerce", sector="Automotive supplier (precision parts)",
        needs=("office_space", "partners"), stage="qualified", local_name="凯瑟巴赫精密零件",
        people=(Person("Matthias Kesselbach", mail("m.kesselbach", "kesselbach"), "de",
                       phone="+49 711 555 0142", job_title="Vorstand Vertrieb"),
                Person("Zhou Min", mail("zhou.min", "kesselbach"), "zh",
                       timezone="Asia/Shanghai", country="CN", job_title="China liaison")),
        history=(Meeting("call", 12, "First call about a sales office in Shanghai", (0, 1)),),
    ),
    DemoFirm(
        key="alpenmed", name="Alpenmed Diagnostik AG", country="CH", source="referral",
        sector="Medical devices", needs=("licensing", "market_access"), stage="qualified",
        owner="demo.mei.lin",
        people=(Person("Dr. Corinne Vallat", mail("c.vallat", "alpenmed"), "en",
                       timezone="Europe/Zurich", country="CH", phone="+41 44 668 1800"),),
        history=(Meeting("training", 20, "Joined the NMPA registration training"),),
    ),
    DemoFirm(
        key="wandelwerk", name="Wandelwerk Energiesysteme GmbH", country="DE", source="forum",
        sector="Battery storage", needs=("policy", "partners"), stage="qualified",
        people=(Person("Tobias Reinhold", mail("t.reinhold", "wandelwerk"), "de"),),
        history=(Meeting("forum", 25, "Panel guest at the new-energy forum"),),
    ),
    # -- engaged ---------------------------------------------------------------------
    DemoFirm(
        key="tannhofer", name="Tannhofer Fahrzeugtechnik GmbH", country="DE",
        source="chamber_of_commerce", sector="Automotive supplier (seating systems)",
        needs=("office_space", "talent"), stage="engaged", owner="demo.mei.lin",
        people=(Person("Sabine Tannhofer", mail("s.tannhofer", "tannhofer"), "de",
                       phone="+49 89 1234 5678", job_title="Leiterin Internationales"),
                Person("Wang Lei", mail("wang.lei", "tannhofer"), "zh",
                       timezone="Asia/Shanghai", country="CN", job_title="Project engineer")),
        history=(Meeting("meeting", 30, "Requirements workshop at the service desk", (0, 1),
                         next_step="Shortlist three office sites"),
                 Meeting("site_visit", 9, "Visited two office parks in the district", (1,))),
    ),
    DemoFirm(
        key="nordsteg", name="Nordsteg Software GmbH", country="DE", source="website",
        sector="Industrial software (start-up)", needs=("talent", "financing"),
        stage="engaged",
        people=(Person("Jannik Feldmann", mail("jannik", "nordsteg"), "en"),),
        history=(Meeting("meeting", 15, "Video meeting on the talent programme"),),
    ),
    DemoFirm(
        key="rauhenstein", name="Rauhenstein Logistik KG", country="AT", source="referral",
        sector="Contract logistics", needs=("licensing", "office_space"), stage="engaged",
        owner="demo.xu.hao",
        people=(Person("Gerlinde Rauhenstein", mail("g.rauhenstein", "rauhenstein"), "de",
                       timezone="Europe/Vienna", country="AT"),),
        history=(Meeting("site_visit", 18, "Toured the bonded warehouse zone"),),
        status="on_hold", notes="Waiting for the board's budget decision in spring.",
    ),
    # -- negotiating -----------------------------------------------------------------
    DemoFirm(
        key="brenntal", name="Brenntal Maschinenbau AG", country="DE", source="forum",
        sector="Machine tools", needs=("office_space", "financing"), stage="negotiating",
        owner="demo.mei.lin", investment_eur=12_500_000,
        people=(Person("Friedrich Brenntal", mail("f.brenntal", "brenntal"), "de",
                       phone="+49 30 2345 6789", job_title="CFO"),
                Person("Li Na", mail("li.na", "brenntal"), "zh", timezone="Asia/Shanghai",
                       country="CN")),
        history=(Meeting("forum", 60, "Met at the intelligent-manufacturing forum"),
                 Meeting("meeting", 40, "Investment terms, first round", (0, 1)),
                 Meeting("site_visit", 21, "Visited the candidate plot in the north", (0,))),
    ),
    DemoFirm(
        key="silbermoos", name="Silbermoos Biotech GmbH", country="DE", source="event",
        sector="Biotech (start-up)", needs=("partners", "financing"), stage="negotiating",
        partnership_type="research_cooperation",
        people=(Person("Dr. Ines Vogelsang", mail("i.vogelsang", "silbermoos"), "en"),),
        history=(Meeting("meeting", 28, "Introduced to a university lab"),),
    ),
    DemoFirm(
        key="glarnisch", name="Glärnisch Sensorik AG", country="CH", source="training",
        sector="Industrial sensors", needs=("market_access",), stage="negotiating",
        investment_eur=3_200_000,
        people=(Person("Reto Baumgartner", mail("r.baumgartner", "glarnisch"), "de",
                       timezone="Europe/Zurich", country="CH"),),
        history=(Meeting("training", 70, "Customs and export-control training"),
                 Meeting("meeting", 35, "Distribution model for East China")),
    ),
    # -- landed ----------------------------------------------------------------------
    DemoFirm(
        key="hohenkamp", name="Hohenkamp Antriebe GmbH", country="DE",
        source="chamber_of_commerce", sector="Automotive supplier (e-drives)",
        needs=("office_space", "talent", "licensing"), stage="landed",
        owner="demo.mei.lin", investment_eur=28_000_000, credit_seed=310001,
        people=(Person("Claudia Hohenkamp", mail("c.hohenkamp", "hohenkamp"), "de",
                       phone="+49 151 2345 6789"),
                Person("Chen Yu", mail("chen.yu", "hohenkamp"), "zh", timezone="Asia/Shanghai",
                       country="CN", phone="+86 138 0013 8000", job_title="General manager")),
        history=(Meeting("meeting", 120, "Kick-off with the investment team", (0, 1)),
                 Meeting("site_visit", 90, "Site visit with the licensing office", (1,)),
                 Meeting("event", 14, "Opening ceremony of the Yangpu office", (0, 1))),
    ),
    DemoFirm(
        key="feldkirch-data", name="Feldkirch Data Services GmbH", country="AT",
        source="referral", sector="IT services", needs=("talent",), stage="landed",
        investment_eur=1_800_000, credit_seed=310002,
        people=(Person("Markus Feldkirch", mail("m.feldkirch", "feldkirch-data"), "en",
                       timezone="Europe/Vienna", country="AT"),),
        history=(Meeting("meeting", 80, "Office lease and hiring plan"),),
    ),
    DemoFirm(
        key="sonnweid", name="Sonnweid Lebensmitteltechnik AG", country="CH", source="forum",
        sector="Food technology", needs=("licensing", "partners"), stage="landed",
        owner="demo.xu.hao", partnership_type="joint_venture", credit_seed=310003,
        people=(Person("Anna Sonnweid", mail("a.sonnweid", "sonnweid"), "de",
                       timezone="Europe/Zurich", country="CH"),),
        history=(Meeting("site_visit", 100, "Visited the food-safety testing centre"),),
    ),
    # -- established partnership -----------------------------------------------------
    DemoFirm(
        key="eichwald", name="Eichwald Automobiltechnik GmbH", country="DE",
        source="chamber_of_commerce", sector="Automotive supplier (braking systems)",
        needs=("office_space", "talent"), stage="established_partnership",
        owner="demo.mei.lin", investment_eur=45_000_000, credit_seed=310004,
        partners=(("Yangpu Institute of Vehicle Engineering", "research"),
                  ("Hufeng Components Co., Ltd.", "supplier")),
        people=(Person("Bernd Eichwald", mail("b.eichwald", "eichwald"), "de",
                       job_title="Geschäftsführer"),
                Person("Sun Jing", mail("sun.jing", "eichwald"), "zh", timezone="Asia/Shanghai",
                       country="CN", job_title="HR director"),
                Person("Tom Berger", mail("t.berger", "eichwald"), "en")),
        history=(Meeting("meeting", 400, "Investment agreement signed", (0,)),
                 Meeting("training", 200, "Social-insurance training for new hires", (1,)),
                 Meeting("event", 30, "Supplier day with local partners", (0, 1, 2))),
    ),
    DemoFirm(
        key="kranichsee", name="Kranichsee Engineering Services GmbH", country="DE",
        source="referral", sector="Engineering services", needs=("partners",),
        stage="established_partnership", partnership_type="engineering_services",
        credit_seed=310005, partners=(("Riverside Smart Factory Alliance", "alliance"),),
        people=(Person("Helga Kranichsee", mail("h.kranichsee", "kranichsee"), "de",
                       email_consent=False),),
        history=(Meeting("site_visit", 300, "Toured the innovation park"),),
    ),
    DemoFirm(
        key="bergwind", name="Bergwind Robotik AG", country="CH", source="event",
        sector="Robotics (start-up)", needs=("financing", "talent"),
        stage="established_partnership", owner="demo.xu.hao", investment_eur=6_000_000,
        credit_seed=310006, partners=(("Yangpu Robotics Incubator", "incubation"),),
        people=(Person("Luca Bergwind", mail("luca", "bergwind"), "en",
                       timezone="Europe/Zurich", country="CH"),
                Person("Liu Yang", mail("liu.yang", "bergwind"), "zh", timezone="Asia/Shanghai",
                       country="CN")),
        history=(Meeting("event", 250, "Won the robotics start-up challenge", (0,)),
                 Meeting("meeting", 180, "Incubator lease and seed round", (0, 1))),
    ),
)  # fmt: skip
