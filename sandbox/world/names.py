"""Word lists the world is drawn from: names, places, companies, products, jobs.

Person names come from Faker's en_US provider data (read once, with their frequencies); the rest
are small lists shipped here. Nothing here draws random numbers: callers pick with their own
``random.Random`` so the world stays deterministic.
"""

from __future__ import annotations

from functools import cache
from itertools import accumulate
from typing import Any


def _cumulative(weights: dict[str, float], share: float) -> tuple[list[str], list[float]]:
    total = sum(weights.values())
    names = list(weights)
    return names, list(accumulate(weights[n] * share / total for n in names))


Table = tuple[tuple[str, ...], tuple[float, ...]]  # names and cumulative weights (read-only)


def _faker_person() -> Any:
    # Imported on first use: Faker's package import takes a noticeable fraction of a second.
    from faker.providers.person.en_US import Provider

    return Provider


@cache
def first_name_table() -> Table:
    """First names (male and female, half each) and their cumulative weights for ``choices``.

    >>> names, cum = first_name_table()
    >>> len(names) > 600 and abs(cum[-1] - 1.0) < 1e-9
    True
    """
    person = _faker_person()
    male, male_cum = _cumulative(dict(person.first_names_male), 0.5)
    female, female_cum = _cumulative(dict(person.first_names_female), 0.5)
    return tuple(male + female), tuple(male_cum + [0.5 + c for c in female_cum])


@cache
def last_name_table() -> Table:
    """Last names and their cumulative weights for ``choices``.

    >>> names, cum = last_name_table()
    >>> names[0], len(names)
    ('Smith', 1000)
    """
    names, cumulative = _cumulative(dict(_faker_person().last_names), 1.0)
    return tuple(names), tuple(cumulative)


# Formal first name -> nicknames people go by in some systems.
def person_name(rng: Any) -> tuple[str, str]:
    """A first and a last name drawn with ``rng`` (a ``random.Random``) as the world draws its
    people: by the names' frequencies, so people added later (a sandbox mutate) have namesakes
    as often as the seeded ones, not far more.

    >>> import random
    >>> person_name(random.Random(1)) == person_name(random.Random(1))
    True
    """
    first, first_cum = first_name_table()
    last, last_cum = last_name_table()
    return (rng.choices(first, cum_weights=first_cum)[0],
            rng.choices(last, cum_weights=last_cum)[0])


NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob", "Bobby"),
    "William": ("Bill", "Will", "Billy"),
    "Elizabeth": ("Liz", "Beth", "Lizzie"),
    "Katherine": ("Kate", "Katie", "Kathy"),
    "Catherine": ("Cathy", "Kate"),
    "Michael": ("Mike", "Mikey"),
    "James": ("Jim", "Jimmy", "Jamie"),
    "Richard": ("Rick", "Rich", "Dick"),
    "Thomas": ("Tom", "Tommy"),
    "Jennifer": ("Jen", "Jenny"),
    "Margaret": ("Maggie", "Peggy", "Meg"),
    "Christopher": ("Chris",),
    "Christine": ("Chris", "Christy"),
    "Daniel": ("Dan", "Danny"),
    "Matthew": ("Matt",),
    "Anthony": ("Tony",),
    "Joseph": ("Joe", "Joey"),
    "Charles": ("Charlie", "Chuck"),
    "Edward": ("Ed", "Ted", "Eddie"),
    "Patricia": ("Pat", "Patty", "Trish"),
    "Patrick": ("Pat",),
    "Susan": ("Sue", "Susie"),
    "Deborah": ("Debbie", "Deb"),
    "Jonathan": ("Jon",),
    "Nicholas": ("Nick",),
    "Alexander": ("Alex",),
    "Alexandra": ("Alex", "Sasha"),
    "Samuel": ("Sam",),
    "Samantha": ("Sam",),
    "Benjamin": ("Ben",),
    "Andrew": ("Andy", "Drew"),
    "Steven": ("Steve",),
    "Stephen": ("Steve",),
    "Joshua": ("Josh",),
    "Kimberly": ("Kim",),
    "Jessica": ("Jess",),
    "Rebecca": ("Becky", "Becca"),
    "Victoria": ("Vicky", "Tori"),
    "Abigail": ("Abby",),
    "Timothy": ("Tim",),
    "Gregory": ("Greg",),
    "Jacqueline": ("Jackie",),
    "Frederick": ("Fred",),
    "Lawrence": ("Larry",),
    "Ronald": ("Ron",),
    "Donald": ("Don",),
    "Kenneth": ("Ken",),
    "Douglas": ("Doug",),
    "Gerald": ("Jerry",),
    "Raymond": ("Ray",),
    "Peter": ("Pete",),
    "Philip": ("Phil",),
    "Zachary": ("Zach",),
    "Jeffrey": ("Jeff",),
    "Stephanie": ("Steph",),
    "Christina": ("Tina", "Chris"),
    "Theodore": ("Theo", "Ted"),
    "Dorothy": ("Dot", "Dottie"),
    "Cynthia": ("Cindy",),
    "Gabriel": ("Gabe",),
    "David": ("Dave",),
    "Jacob": ("Jake",),
    "Nathan": ("Nate",),
    "Nathaniel": ("Nate", "Nat"),
    "Kathleen": ("Kathy", "Kate"),
    "Pamela": ("Pam",),
    "Barbara": ("Barb",),
    "Judith": ("Judy",),
    "Teresa": ("Terry",),
    "Vincent": ("Vince",),
    "Eugene": ("Gene",),
    "Walter": ("Walt",),
    "Mitchell": ("Mitch",),
    "Valerie": ("Val",),
    "Jeremy": ("Jerry",),
    "Danielle": ("Dani",),
    "Melissa": ("Mel", "Missy"),
    "Amanda": ("Mandy",),
    "Kristen": ("Kris",),
}

# Country code -> (E.164 calling code, trunk prefix, share of people).
COUNTRIES: tuple[tuple[str, str, str, float], ...] = (
    ("US", "1", "1", 0.55),
    ("GB", "44", "0", 0.20),
    ("CA", "1", "1", 0.10),
    ("AU", "61", "0", 0.10),
    ("IE", "353", "0", 0.05),
)

US_AREA_CODES = (
    "201", "202", "206", "212", "213", "214", "303", "305", "310", "312", "404", "408", "415",
    "469", "503", "512", "602", "615", "617", "646", "702", "704", "713", "718", "720", "773",
    "801", "808", "818", "917", "919", "972",
)
CA_AREA_CODES = ("403", "416", "438", "514", "587", "604", "613", "647", "778", "780", "902", "905")

# (city, region, postcode seed): US zip3 prefix, GB outward area, CA first letter, AU first
# number (4 digits), IE routing key.
CITIES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "US": (
        ("New York", "NY", "100"), ("Brooklyn", "NY", "112"), ("Los Angeles", "CA", "900"),
        ("San Francisco", "CA", "941"), ("San Diego", "CA", "921"), ("Chicago", "IL", "606"),
        ("Houston", "TX", "770"), ("Austin", "TX", "787"), ("Dallas", "TX", "752"),
        ("Phoenix", "AZ", "850"), ("Philadelphia", "PA", "191"), ("Seattle", "WA", "981"),
        ("Portland", "OR", "972"), ("Denver", "CO", "802"), ("Boston", "MA", "021"),
        ("Atlanta", "GA", "303"), ("Miami", "FL", "331"), ("Nashville", "TN", "372"),
        ("Minneapolis", "MN", "554"), ("Charlotte", "NC", "282"), ("Raleigh", "NC", "276"),
        ("Salt Lake City", "UT", "841"), ("Columbus", "OH", "432"), ("Detroit", "MI", "482"),
    ),
    "GB": (
        ("London", "Greater London", "SW"), ("London", "Greater London", "N"),
        ("London", "Greater London", "E"), ("London", "Greater London", "SE"),
        ("Manchester", "Greater Manchester", "M"), ("Birmingham", "West Midlands", "B"),
        ("Leeds", "West Yorkshire", "LS"), ("Bristol", "", "BS"), ("Liverpool", "Merseyside", "L"),
        ("Edinburgh", "Scotland", "EH"), ("Glasgow", "Scotland", "G"), ("Cardiff", "Wales", "CF"),
        ("Nottingham", "Nottinghamshire", "NG"), ("Brighton", "East Sussex", "BN"),
        ("Oxford", "Oxfordshire", "OX"), ("Cambridge", "Cambridgeshire", "CB"),
    ),
    "CA": (
        ("Toronto", "ON", "M"), ("Ottawa", "ON", "K"), ("Vancouver", "BC", "V"),
        ("Montreal", "QC", "H"), ("Calgary", "AB", "T"), ("Edmonton", "AB", "T"),
        ("Halifax", "NS", "B"), ("Winnipeg", "MB", "R"),
    ),
    "AU": (
        ("Sydney", "NSW", "2"), ("Melbourne", "VIC", "3"), ("Brisbane", "QLD", "4"),
        ("Perth", "WA", "6"), ("Adelaide", "SA", "5"), ("Hobart", "TAS", "7"),
    ),
    "IE": (
        ("Dublin", "Co. Dublin", "D0"), ("Dublin", "Co. Dublin", "D1"), ("Cork", "Co. Cork", "T12"),
        ("Galway", "Co. Galway", "H91"), ("Limerick", "Co. Limerick", "V94"),
    ),
}

STREET_NAMES = (
    "Oak", "Maple", "Cedar", "Pine", "Elm", "Willow", "Park", "Church", "High", "Mill", "Station",
    "Victoria", "King", "Queen", "Main", "Market", "Bridge", "Lake", "Hill", "River", "Spring",
    "Chestnut", "Walnut", "Highland", "Meadow", "Orchard", "Harbor", "Sunset", "Forest", "Grove",
    "Washington", "Lincoln", "Jefferson", "Madison", "Franklin", "Albert", "George", "York",
    "Windsor", "Kingsway", "Bay", "Ocean", "Valley", "Prospect", "Union", "Center", "Dover",
)
# Full street suffix -> the abbreviation people also type.
STREET_SUFFIXES: dict[str, str] = {
    "Street": "St", "Avenue": "Ave", "Road": "Rd", "Drive": "Dr", "Lane": "Ln",
    "Boulevard": "Blvd", "Court": "Ct", "Place": "Pl", "Close": "Cl", "Crescent": "Cres",
    "Terrace": "Tce", "Parade": "Pde",
}
COUNTRY_SUFFIXES: dict[str, tuple[str, ...]] = {
    "US": ("Street", "Street", "Avenue", "Road", "Drive", "Lane", "Boulevard", "Court", "Place"),
    "GB": ("Road", "Road", "Street", "Lane", "Close", "Avenue", "Crescent", "Terrace"),
    "CA": ("Street", "Avenue", "Road", "Drive", "Crescent", "Boulevard"),
    "AU": ("Street", "Street", "Road", "Parade", "Avenue", "Terrace", "Place"),
    "IE": ("Road", "Street", "Avenue", "Terrace", "Lane"),
}

PERSONAL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 0.42), ("yahoo.com", 0.09), ("hotmail.com", 0.08), ("outlook.com", 0.11),
    ("icloud.com", 0.09), ("aol.com", 0.03), ("proton.me", 0.03), ("live.com", 0.04),
    ("me.com", 0.03), ("mail.com", 0.02), ("fastmail.com", 0.02), ("gmx.com", 0.02),
    ("btinternet.com", 0.02),
)
# Misspelled domains seen in real sign-up forms.
DOMAIN_TYPOS: dict[str, tuple[str, ...]] = {
    "gmail.com": ("gmial.com", "gmail.co", "gmai.com", "gmail.con", "gnail.com"),
    "yahoo.com": ("yaho.com", "yahoo.co", "yahooo.com"),
    "hotmail.com": ("hotmial.com", "hotmail.co", "hotmal.com"),
    "outlook.com": ("outlok.com", "outlook.co", "outloook.com"),
    "icloud.com": ("iclod.com", "icloud.co", "icoud.com"),
}
PLUS_TAGS = ("shop", "news", "orders", "promo", "work", "store", "2", "receipts", "spam")

COMPANY_PREFIXES = (
    "North", "South", "Blue", "Red", "Green", "Silver", "Bright", "Clear", "True", "Iron",
    "Stone", "Oak", "Summit", "Harbor", "River", "Pine", "Cedar", "Apex", "Nova", "Pioneer",
    "Crest", "Golden", "Prime", "Swift", "Bold", "Wild", "Urban", "Lake", "Hill", "Star",
)
COMPANY_ROOTS = (
    "field", "gate", "bridge", "stone", "point", "wave", "line", "works", "path", "light",
    "wood", "brook", "peak", "ridge", "view", "haven", "craft", "forge", "port", "spark",
)
COMPANY_NOUNS = (
    "Logistics", "Systems", "Labs", "Studio", "Partners", "Solutions", "Supply", "Outfitters",
    "Trading", "Analytics", "Design", "Foods", "Health", "Interiors", "Consulting", "Media",
    "Builders", "Ventures", "Goods", "Hospitality", "Retail", "Wellness", "Energy", "Apparel",
)
LEGAL_SUFFIXES: dict[str, tuple[str, ...]] = {
    "US": ("Inc", "LLC", "Co", "Group", "", ""),
    "GB": ("Ltd", "Ltd", "PLC", "Group", ""),
    "CA": ("Inc", "Ltd", "Corp", ""),
    "AU": ("Pty Ltd", "Pty Ltd", "Group", ""),
    "IE": ("Ltd", "Teoranta", "Group", ""),
}
COUNTRY_TLDS: dict[str, tuple[str, ...]] = {
    "US": ("com", "com", "com", "io", "co"),
    "GB": ("co.uk", "co.uk", "com", "uk"),
    "CA": ("ca", "com"),
    "AU": ("com.au", "com.au", "com"),
    "IE": ("ie", "com"),
}
# (label a person would write, HubSpot ``industry`` enumeration value)
INDUSTRIES: tuple[tuple[str, str], ...] = (
    ("Computer Software", "COMPUTER_SOFTWARE"),
    ("Information Technology and Services", "INFORMATION_TECHNOLOGY_AND_SERVICES"),
    ("Retail", "RETAIL"),
    ("Hospitality", "HOSPITALITY"),
    ("Construction", "CONSTRUCTION"),
    ("Financial Services", "FINANCIAL_SERVICES"),
    ("Health, Wellness and Fitness", "HEALTH_WELLNESS_AND_FITNESS"),
    ("Marketing and Advertising", "MARKETING_AND_ADVERTISING"),
    ("Logistics and Supply Chain", "LOGISTICS_AND_SUPPLY_CHAIN"),
    ("Food & Beverages", "FOOD_BEVERAGES"),
    ("Education Management", "EDUCATION_MANAGEMENT"),
    ("Real Estate", "REAL_ESTATE"),
    ("Apparel & Fashion", "APPAREL_FASHION"),
    ("Sporting Goods", "SPORTING_GOODS"),
    ("Architecture & Planning", "ARCHITECTURE_PLANNING"),
    ("Hospital & Health Care", "HOSPITAL_HEALTH_CARE"),
    ("Wholesale", "WHOLESALE"),
    ("Consumer Goods", "CONSUMER_GOODS"),
)

PRODUCT_ADJECTIVES = (
    "Classic", "Essential", "Everyday", "Premium", "Heritage", "Urban", "Alpine", "Coastal",
    "Trail", "Studio", "Vintage", "Modern", "Rugged", "Signature", "Compact", "Deluxe",
    "Weekend", "Travel", "Summit", "Harbor", "Nordic", "Canyon", "Meadow", "Northwind", "Field",
    "Cabin", "Metro", "Island",
)
_KNIT = ("Merino", "Wool", "Cashmere", "Fleece", "Recycled")
_BAG = ("Canvas", "Leather", "Recycled", "Denim", "Waxed Cotton")
_CERAMIC = ("Ceramic", "Stoneware", "Glass", "Enamel")
_WOOD = ("Oak", "Walnut", "Bamboo", "Acacia")
_METAL = ("Steel", "Copper", "Insulated", "Recycled")
_LEATHER = ("Leather", "Suede", "Canvas")
_PAPER = ("Recycled", "Linen", "Leather", "Cork")
# (noun, SKU category code, price range in dollars, variant kind: size | color | none,
#  materials it comes in)
PRODUCT_NOUNS: tuple[tuple[str, str, int, int, str, tuple[str, ...]], ...] = (
    ("Tee", "TEE", 18, 45, "size", ("Cotton", "Linen", "Recycled", "Merino")),
    ("Hoodie", "HOO", 45, 110, "size", ("Cotton", "Fleece", "Recycled", "Merino")),
    ("Beanie", "BEA", 15, 40, "color", _KNIT),
    ("Scarf", "SCF", 25, 90, "color", (*_KNIT, "Linen")),
    ("Tote Bag", "TOT", 15, 60, "color", _BAG),
    ("Backpack", "BPK", 60, 220, "color", _BAG),
    ("Mug", "MUG", 12, 35, "none", _CERAMIC),
    ("Water Bottle", "BTL", 18, 45, "color", _METAL),
    ("Notebook", "NBK", 8, 30, "none", _PAPER),
    ("Candle", "CND", 14, 48, "none", ("Soy", "Beeswax", "Ceramic", "Glass")),
    ("Throw Blanket", "BLK", 45, 180, "color", (*_KNIT, "Cotton")),
    ("Cushion", "CSH", 25, 70, "color", ("Linen", "Cotton", "Velvet", "Wool")),
    ("Wallet", "WLT", 30, 120, "color", _LEATHER),
    ("Belt", "BLT", 25, 90, "size", _LEATHER),
    ("Socks", "SCK", 8, 25, "size", (*_KNIT, "Cotton")),
    ("Jacket", "JKT", 90, 380, "size", ("Denim", "Wool", "Fleece", "Canvas", "Leather")),
    ("Cap", "CAP", 18, 40, "color", ("Cotton", "Canvas", "Wool", "Recycled")),
    ("Apron", "APR", 20, 55, "none", ("Canvas", "Linen", "Denim")),
    ("Cutting Board", "CBD", 30, 120, "none", _WOOD),
    ("Planter", "PLT", 18, 75, "color", (*_CERAMIC, "Concrete")),
    ("Desk Lamp", "LMP", 45, 160, "color", ("Brass", "Steel", "Oak", "Walnut", "Ceramic")),
    ("Serving Bowl", "BWL", 22, 80, "none", (*_CERAMIC, *_WOOD)),
    ("Tumbler", "TMB", 14, 38, "color", _METAL),
    ("Journal", "JRN", 12, 40, "none", _PAPER),
    ("Duffel Bag", "DUF", 70, 240, "color", _BAG),
    ("Gloves", "GLV", 20, 70, "size", ("Leather", "Wool", "Fleece", "Suede")),
    ("Sweater", "SWT", 60, 190, "size", _KNIT),
    ("Shirt", "SHT", 35, 95, "size", ("Cotton", "Linen", "Denim", "Flannel")),
    ("Shorts", "SHO", 28, 70, "size", ("Cotton", "Linen", "Denim", "Recycled")),
    ("Vest", "VST", 55, 160, "size", ("Fleece", "Wool", "Down", "Recycled")),
)
SIZES = ("S", "M", "L", "XL")
COLORS = ("Natural", "Charcoal", "Navy", "Sage", "Sand", "Rust", "Black", "Forest")

# The company running the four systems.
WORK_DOMAIN = "windwardgoods.com"
# (department, share of staff, head title, manager title, individual-contributor titles)
DEPARTMENTS: tuple[tuple[str, float, str, str, tuple[str, ...]], ...] = (
    ("Sales", 0.28, "VP of Sales", "Sales Manager",
     ("Account Executive", "Account Executive", "Senior Account Executive",
      "Sales Development Representative", "Account Manager")),
    ("Customer Success", 0.12, "Head of Customer Success", "Customer Success Lead",
     ("Customer Success Manager", "Support Specialist", "Onboarding Specialist")),
    ("Marketing", 0.10, "VP of Marketing", "Marketing Manager",
     ("Content Marketer", "Growth Marketer", "Designer", "Marketing Operations Analyst")),
    ("Engineering", 0.20, "VP of Engineering", "Engineering Manager",
     ("Software Engineer", "Senior Software Engineer", "Data Engineer", "QA Engineer")),
    ("Operations", 0.14, "Head of Operations", "Warehouse Manager",
     ("Fulfilment Associate", "Buyer", "Logistics Coordinator", "Inventory Analyst")),
    ("Finance", 0.10, "CFO", "Finance Manager",
     ("Accountant", "Accounts Receivable Specialist", "Financial Analyst", "Bookkeeper")),
    ("People", 0.06, "Head of People", "People Partner",
     ("Recruiter", "People Operations Specialist", "Payroll Specialist")),
)
