#!/usr/bin/env python3
"""Generates the demo tariff's TARIC3 envelopes from the tables below.

    python3 crates/server/demo/generate.py      # rewrites crates/server/demo/tariff/*.xml

The tables are the source; the XML files are generated and checked in (the server embeds
them, and a test checks that they are up to date, valid and calculate as expected). Every
figure here was written for the Portorium demo: rates are close to those in force but
ILLUSTRATIVE, not legal advice. See README.md in this folder.

Duty mini-language (one string per measure, components separated by ';'):
    "01 12.8%"                 ad valorem
    "04 176.8 EUR DTN"         specific: amount, currency, measurement unit
    "01 5 EUR"                 flat amount
    "01 26.2 EUR TNE I"        specific with a measurement unit qualifier
    "12" / "21" / "37"         expressions without an amount
    "99 NAR"                   supplementary unit
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tariff")

NOMENCLATURE_FROM = "1990-01-01"
# Measures are in force from 2025 unless dated otherwise (a few rates change on 1 January 2026).
DEFAULT_START = "2025-01-01"

# ---------------------------------------------------------------- geography

# (id, kind: 0 country / 1 group, description)
AREAS = [
    ("1011", 1, "ERGA OMNES"),
    ("2020", 1, "GSP (demo): general arrangement"),
    ("1100", 1, "Free trade agreement partners (demo)"),
    ("BR", 0, "Brazil"), ("CH", 0, "Switzerland"), ("CN", 0, "China"),
    ("EC", 0, "Ecuador"), ("GB", 0, "United Kingdom"), ("ID", 0, "Indonesia"),
    ("IN", 0, "India"), ("JP", 0, "Japan"), ("KR", 0, "South Korea"),
    ("MA", 0, "Morocco"), ("NZ", 0, "New Zealand"), ("PK", 0, "Pakistan"),
    ("PT", 0, "Portugal"), ("RU", 0, "Russian Federation"), ("TR", 0, "Türkiye"),
    ("US", 0, "United States"), ("VN", 0, "Viet Nam"), ("ZA", 0, "South Africa"),
]

# (group, member, from, to): Viet Nam moves from GSP to the FTA group on 1 January 2026.
MEMBERSHIPS = [
    ("2020", "IN", "1990-01-01", None),
    ("2020", "ID", "1990-01-01", None),
    ("2020", "PK", "1990-01-01", None),
    ("2020", "VN", "2014-01-01", "2025-12-31"),
    ("1100", "CH", "1990-01-01", None),
    ("1100", "KR", "2011-07-01", None),
    ("1100", "MA", "2000-03-01", None),
    ("1100", "ZA", "2000-01-01", None),
    ("1100", "GB", "2021-01-01", None),
    ("1100", "VN", "2026-01-01", None),
]

# ---------------------------------------------------------------- nomenclature

# (code, suffix, TARIC indent, description, supplementary unit)
# Chapters and headings have TARIC indent 0; "-" lines 1, "--" lines 2, ...
GOODS = [
    ("0100000000", "80", 0, "Live animals", None),
    ("0102000000", "80", 0, "Live bovine animals", None),
    ("0102210000", "80", 1, "Cattle, pure-bred breeding animals", "NAR"),
    ("0102291000", "80", 1, "Other cattle, of a weight not exceeding 80 kg", "NAR"),
    ("0102299900", "80", 1, "Other cattle, of a weight exceeding 80 kg", "NAR"),
    ("0105000000", "80", 0, "Live poultry", None),
    ("0105111100", "80", 1, "Chicks of fowls, weighing not more than 185 g, laying stocks", "NAR"),
    ("0105941000", "80", 1, "Fowls weighing more than 185 g", "NAR"),
    ("0200000000", "80", 0, "Meat and edible meat offal", None),
    ("0201000000", "80", 0, "Meat of bovine animals, fresh or chilled", None),
    ("0201100000", "80", 1, "Carcases and half-carcases", None),
    ("0201300000", "80", 1, "Boneless", None),
    ("0203000000", "80", 0, "Meat of swine, fresh, chilled or frozen", None),
    ("0203111000", "80", 1, "Carcases of domestic swine, fresh or chilled", None),
    ("0207000000", "80", 0, "Meat and edible offal of poultry", None),
    ("0207140000", "80", 1, "Cuts and offal of fowls, frozen", None),
    ("0207141000", "80", 2, "Boneless cuts", None),
    ("0207149900", "80", 2, "Other cuts and offal", None),
    ("0300000000", "80", 0, "Fish and crustaceans, molluscs and other aquatic invertebrates", None),
    ("0302000000", "80", 0, "Fish, fresh or chilled", None),
    ("0302130000", "80", 1, "Pacific salmon", None),
    ("0302140000", "80", 1, "Atlantic salmon and Danube salmon", None),
    ("0306000000", "80", 0, "Crustaceans", None),
    ("0306170000", "80", 1, "Other shrimps and prawns, frozen", None),
    ("0306350000", "80", 1, "Cold-water shrimps and prawns, live, fresh or chilled", None),
    ("0400000000", "80", 0, "Dairy produce; birds' eggs; natural honey", None),
    ("0401000000", "80", 0, "Milk and cream, not concentrated nor sweetened", None),
    ("0401201100", "80", 1, "Milk of a fat content between 1 % and 3 %, in packings of 2 l or less", None),
    ("0401201900", "80", 1, "Milk of a fat content between 1 % and 3 %, other", None),
    ("0406000000", "80", 0, "Cheese and curd", None),
    ("0406103000", "80", 1, "Mozzarella", None),
    ("0406907800", "80", 1, "Gouda", None),
    ("0409000000", "80", 0, "Natural honey", None),
    ("0700000000", "80", 0, "Edible vegetables and certain roots and tubers", None),
    ("0701000000", "80", 0, "Potatoes, fresh or chilled", None),
    ("0701905000", "80", 1, "New potatoes, from 1 January to 30 June", None),
    ("0701909000", "80", 1, "Other potatoes", None),
    ("0703000000", "80", 0, "Onions, shallots, garlic and leeks, fresh or chilled", None),
    ("0703101900", "80", 1, "Onions", None),
    ("0703200000", "80", 1, "Garlic", None),
    ("0709000000", "80", 0, "Other vegetables, fresh or chilled", None),
    ("0709601000", "80", 1, "Sweet peppers", None),
    ("0709930000", "80", 1, "Pumpkins, squash and gourds", None),
    ("0709931000", "80", 2, "Courgettes", None),
    ("0709939000", "80", 2, "Other pumpkins, squash and gourds", None),
    ("0800000000", "80", 0, "Edible fruit and nuts", None),
    ("0803000000", "80", 0, "Bananas, fresh or dried", None),
    ("0803901000", "80", 1, "Bananas, fresh", None),
    ("0804000000", "80", 0, "Dates, figs, pineapples, avocados, guavas and mangoes", None),
    ("0804300000", "80", 1, "Pineapples", None),
    ("0804400000", "80", 1, "Avocados", None),
    ("0805000000", "80", 0, "Citrus fruit, fresh or dried", None),
    ("0805102200", "80", 1, "Navel oranges, fresh", None),
    ("0805501000", "80", 1, "Lemons, fresh", None),
    ("0806000000", "80", 0, "Grapes, fresh or dried", None),
    ("0806101000", "80", 1, "Table grapes, fresh", None),
    ("0808000000", "80", 0, "Apples, pears and quinces, fresh", None),
    ("0808108000", "80", 1, "Apples, other than for cider", None),
    ("0900000000", "80", 0, "Coffee, tea, mate and spices", None),
    ("0901000000", "80", 0, "Coffee", None),
    ("0901110000", "80", 1, "Coffee, not roasted, not decaffeinated", None),
    ("0901210000", "80", 1, "Coffee, roasted, not decaffeinated", None),
    ("0901220000", "80", 1, "Coffee, roasted, decaffeinated", None),
    ("1700000000", "80", 0, "Sugars and sugar confectionery", None),
    ("1701000000", "80", 0, "Cane or beet sugar, in solid form", None),
    ("1701991000", "80", 1, "White sugar", None),
    ("1704000000", "80", 0, "Sugar confectionery, not containing cocoa", None),
    ("1704907100", "80", 1, "Boiled sweets", None),
    ("1800000000", "80", 0, "Cocoa and cocoa preparations", None),
    ("1801000000", "80", 0, "Cocoa beans, whole or broken, raw or roasted", None),
    ("1806000000", "80", 0, "Chocolate and other food preparations containing cocoa", None),
    ("1806310000", "80", 1, "Chocolate in blocks or bars, filled", None),
    ("1806321000", "80", 1, "Chocolate in blocks or bars, not filled, with added cereal, fruit or nuts", None),
    ("1806901100", "80", 1, "Chocolates containing alcohol", None),
    ("1900000000", "80", 0, "Preparations of cereals, flour, starch or milk; pastrycooks' products", None),
    ("1902000000", "80", 0, "Pasta", None),
    ("1902191000", "80", 1, "Uncooked pasta, containing no eggs and no common wheat flour", None),
    ("1905000000", "80", 0, "Bread, pastry, cakes, biscuits and other bakers' wares", None),
    ("1905311100", "80", 1, "Sweet biscuits, coated with chocolate, in packings of 85 g or less", None),
    ("1905320500", "80", 1, "Waffles and wafers, of a water content exceeding 10 %", None),
    ("1905909000", "80", 1, "Other bakers' wares", None),
    ("2000000000", "80", 0, "Preparations of vegetables, fruit or nuts", None),
    ("2008000000", "80", 0, "Fruit and nuts, otherwise prepared or preserved", None),
    ("2008111000", "80", 1, "Peanut butter", None),
    ("2009000000", "80", 0, "Fruit juices, unfermented, without added spirit", None),
    ("2009111100", "80", 1, "Orange juice, frozen, of a Brix value exceeding 67", None),
    ("2009121000", "80", 1, "Orange juice, not frozen, of a Brix value not exceeding 20", "LTR"),
    ("2200000000", "80", 0, "Beverages, spirits and vinegar", None),
    ("2201000000", "80", 0, "Waters, not sweetened; ice and snow", None),
    ("2201101100", "80", 1, "Natural mineral waters, still", "LTR"),
    ("2202000000", "80", 0, "Waters with added sugar or flavour; other non-alcoholic beverages", None),
    ("2202100000", "80", 1, "Soft drinks with added sugar or flavour", "LTR"),
    ("2202910000", "80", 1, "Non-alcoholic beer", "LTR"),
    ("2203000000", "80", 0, "Beer made from malt", None),
    ("2203000100", "80", 1, "Beer in bottles, in containers of 10 l or less", "LTR"),
    ("2203000900", "80", 1, "Beer in other containers of 10 l or less (cans)", "LTR"),
    ("2203001000", "80", 1, "Beer in containers of more than 10 l", "LTR"),
    ("2204000000", "80", 0, "Wine of fresh grapes", None),
    ("2204109800", "80", 1, "Sparkling wine", "LTR"),
    ("2204210000", "80", 1, "Other wine, in containers of 2 l or less", None),
    ("2204217900", "10", 2, "Still wine of an actual alcoholic strength not exceeding 15 % vol", None),
    ("2204217900", "80", 3, "White wine", "LTR"),
    ("2204218000", "80", 3, "Red wine", "LTR"),
    ("2204219000", "80", 2, "Wine of an actual alcoholic strength exceeding 15 % vol but not exceeding 22 % vol", "LTR"),
    ("2208000000", "80", 0, "Undenatured ethyl alcohol under 80 % vol; spirits and liqueurs", None),
    ("2208300000", "80", 1, "Whiskies", None),
    ("2208303000", "80", 2, "Single malt whisky", "LPA"),
    ("2208401100", "80", 1, "Rum, in containers of 2 l or less", "LPA"),
    ("2208601100", "80", 1, "Vodka of 45.4 % vol or less, in containers of 2 l or less", "LPA"),
    ("2208909100", "80", 1, "Undenatured ethyl alcohol under 80 % vol, in containers of 2 l or less", "LPA"),
    ("2400000000", "80", 0, "Tobacco and manufactured tobacco substitutes", None),
    ("2402000000", "80", 0, "Cigars, cigarillos and cigarettes", None),
    ("2402100000", "80", 1, "Cigars and cigarillos containing tobacco", "NAR"),
    ("2402201000", "80", 1, "Cigarettes containing cloves", "MIL"),
    ("2402209000", "80", 1, "Other cigarettes containing tobacco", "MIL"),
    ("2403000000", "80", 0, "Other manufactured tobacco", None),
    ("2403191000", "80", 1, "Smoking tobacco in packings of 500 g or less", None),
    ("2700000000", "80", 0, "Mineral fuels, mineral oils and products of their distillation", None),
    ("2710000000", "80", 0, "Petroleum oils, other than crude", None),
    ("2710124500", "80", 1, "Motor spirit (petrol), unleaded, research octane number below 95", "KLT"),
    ("2710194300", "80", 1, "Gas oils with a sulphur content not exceeding 0.001 % (diesel)", "KLT"),
    ("2711000000", "80", 0, "Petroleum gases and other gaseous hydrocarbons", None),
    ("2711110000", "80", 1, "Natural gas, liquefied", None),
    ("6100000000", "80", 0, "Articles of apparel, knitted or crocheted", None),
    ("6109000000", "80", 0, "T-shirts, singlets and other vests, knitted", None),
    ("6109100000", "80", 1, "Of cotton", "NAR"),
    ("6109902000", "80", 1, "Of wool or of synthetic fibres", "NAR"),
    ("6110000000", "80", 0, "Jerseys, pullovers, cardigans and similar articles, knitted", None),
    ("6110200000", "80", 1, "Of cotton", "NAR"),
    ("6110301000", "80", 1, "Of man-made fibres, lightweight fine knit", "NAR"),
    ("6200000000", "80", 0, "Articles of apparel, not knitted or crocheted", None),
    ("6203000000", "80", 0, "Men's suits, jackets, trousers and shorts", None),
    ("6203423100", "80", 1, "Men's trousers of cotton denim", "NAR"),
    ("6204000000", "80", 0, "Women's suits, jackets, dresses and skirts", None),
    ("6204440000", "80", 1, "Dresses of artificial fibres", "NAR"),
    ("6204620000", "80", 1, "Women's trousers of cotton", "NAR"),
    ("6400000000", "80", 0, "Footwear, gaiters and the like", None),
    ("6402000000", "80", 0, "Other footwear with outer soles and uppers of rubber or plastics", None),
    ("6402999300", "80", 1, "Other footwear, with an insole of 24 cm or more", "NPR"),
    ("6403000000", "80", 0, "Footwear with uppers of leather", None),
    ("6403911300", "80", 1, "Leather footwear covering the ankle, with an insole of less than 24 cm", "NPR"),
    ("6403999300", "80", 1, "Other leather footwear, with an insole of 24 cm or more", "NPR"),
    ("7200000000", "80", 0, "Iron and steel", None),
    ("7208000000", "80", 0, "Flat-rolled products of iron or steel, 600 mm or more wide, hot-rolled", None),
    ("7208251000", "80", 1, "In coils, 4.75 mm thick or more, for re-rolling", None),
    ("7208390000", "80", 1, "In coils, less than 3 mm thick", None),
    ("7210000000", "80", 0, "Flat-rolled products of iron or steel, clad, plated or coated", None),
    ("7210491000", "80", 1, "Zinc-coated, other than electrolytically", None),
    ("7300000000", "80", 0, "Articles of iron or steel", None),
    ("7318000000", "80", 0, "Screws, bolts, nuts, rivets, washers and similar articles", None),
    ("7318159500", "80", 1, "Other screws and bolts", None),
    ("7323000000", "80", 0, "Table, kitchen or other household articles of iron or steel", None),
    ("7323931000", "80", 1, "Table articles of stainless steel", None),
    ("8400000000", "80", 0, "Machinery and mechanical appliances", None),
    ("8415000000", "80", 0, "Air conditioning machines", None),
    ("8415101000", "80", 1, "Window or wall types, self-contained", "NAR"),
    ("8418000000", "80", 0, "Refrigerators and freezers", None),
    ("8418102000", "80", 1, "Combined refrigerator-freezers, of a capacity exceeding 340 l", "NAR"),
    ("8471000000", "80", 0, "Automatic data-processing machines", None),
    ("8471300000", "80", 1, "Portable computers (laptops) weighing not more than 10 kg", "NAR"),
    ("8471500000", "80", 1, "Processing units", "NAR"),
    ("8471700000", "80", 1, "Storage units", "NAR"),
    ("8500000000", "80", 0, "Electrical machinery and equipment", None),
    ("8504000000", "80", 0, "Electrical transformers and static converters", None),
    ("8504409000", "80", 1, "Other static converters (power supplies)", None),
    ("8507000000", "80", 0, "Electric accumulators", None),
    ("8507600000", "80", 1, "Lithium-ion accumulators", "NAR"),
    ("8516000000", "80", 0, "Electric water heaters, hair dryers and similar appliances", None),
    ("8516310000", "80", 1, "Hair dryers", "NAR"),
    ("8517000000", "80", 0, "Telephone sets and other apparatus for voice, images or data", None),
    ("8517130000", "80", 1, "Smartphones", "NAR"),
    ("8517620000", "80", 1, "Machines for the reception and transmission of data (routers)", "NAR"),
    ("8528000000", "80", 0, "Monitors, projectors and television receivers", None),
    ("8528729100", "80", 1, "Colour television receivers", "NAR"),
    ("8700000000", "80", 0, "Vehicles other than railway or tramway rolling stock", None),
    ("8703000000", "80", 0, "Motor cars and other motor vehicles for the transport of persons", None),
    ("8703231900", "80", 1, "New passenger cars, spark-ignition engine of 1,500 to 3,000 cm3", "NAR"),
    ("8703401000", "80", 1, "New hybrid passenger cars (spark-ignition and electric motor)", "NAR"),
    ("8703801000", "80", 1, "New passenger cars, electric motor only", "NAR"),
    ("8708000000", "80", 0, "Parts and accessories of motor vehicles", None),
    ("8708299000", "80", 1, "Other parts and accessories of bodies", None),
    ("8708703500", "80", 1, "Road wheels of aluminium", None),
    ("8711000000", "80", 0, "Motorcycles and cycles with an auxiliary motor", None),
    ("8711400000", "80", 1, "Motorcycles of 500 to 800 cm3", "NAR"),
    ("8712000000", "80", 0, "Bicycles and other cycles, not motorised", None),
    ("8712003000", "80", 1, "Bicycles with ball bearings", "NAR"),
]

# ---------------------------------------------------------------- reference records

REGULATIONS = [
    # (id, start, end, information text)
    ("R2600010", "2025-01-01", None, "Demo: common customs tariff 2026"),
    ("R2500010", "2025-01-01", "2025-12-31", "Demo: common customs tariff 2025"),
    ("R9400010", "1994-01-01", "1995-06-30", "Demo: agricultural levies before the Uruguay Round"),
    ("R2600020", "2025-01-01", None, "Demo: generalised scheme of preferences"),
    ("R2600030", "2025-01-01", None, "Demo: free trade agreements"),
    ("R2600040", "2025-01-01", None, "Demo: autonomous suspensions and tariff quotas"),
    ("R2600050", "2025-01-01", None, "Demo: anti-dumping and countervailing duties"),
    ("R2600060", "2025-01-01", None, "Demo: entry prices, veterinary and organic controls, restrictive measures"),
    ("R2600070", "2025-01-01", None, "Demo: Meursing table (agricultural components)"),
]

CERTIFICATES = [
    ("N853", "Common Health Entry Document for products (CHED-P)"),
    ("Y824", "Goods not originating in or exported from Russia (exemption from the import prohibition)"),
    ("C644", "Certificate of inspection for organic products"),
]

FOOTNOTES = [
    ("CD", "624", "Veterinary checks: the goods need a Common Health Entry Document."),
    ("TN", "701", "Entry price system: declare the unit price (EUR per 100 kg net) of the consignment."),
    ("CD", "808", "Anti-dumping or countervailing duty: declare the TARIC additional code of the producer; C999 for all other companies."),
    ("TN", "702", "Meursing table: declare the additional code (7000-7999) for the composition of the goods."),
]

# (type, code, description)
ADDITIONAL_CODES = [
    ("C", "001", "Northern Steel Works Co., Ltd. (demo)"),
    ("C", "002", "Pacific Coil Industries Ltd. (demo)"),
    ("C", "101", "Dragon Electric Motors Co., Ltd. (demo)"),
    ("C", "102", "Jade River Automobile Group (demo)"),
    ("C", "999", "All other companies"),
] + [("7", c[1:], f"Meursing code {c}") for c in ("7000", "7001", "7002", "7100", "7120", "7345")]

# Meursing table: code -> (agricultural component, additional duty on sugar, additional
# duty on flour) in EUR per 100 kg, full and reduced (reduced: for the FTA group).
MEURSING = {
    "7000": ((25.00, 10.00, 5.00), (12.50, 5.00, 2.50)),
    "7001": ((38.40, 14.60, 6.20), (19.20, 7.30, 3.10)),
    "7002": ((45.80, 22.10, 8.90), (22.90, 11.05, 4.45)),
    "7100": ((52.30, 0.00, 12.40), (26.15, 0.00, 6.20)),
    "7120": ((61.10, 31.50, 0.00), (30.55, 15.75, 0.00)),
    "7345": ((17.20, 41.80, 3.30), (8.60, 20.90, 1.65)),
}

# Numeric TARIC measure types used (id, series, description).
MEASURE_TYPES = [
    ("103", "C", "Third country duty"), ("109", "O", "Supplementary unit"),
    ("112", "C", "Autonomous tariff suspension"), ("115", "C", "Autonomous suspension under end-use"),
    ("122", "C", "Non preferential tariff quota"), ("142", "C", "Tariff preference"),
    ("143", "C", "Preferential tariff quota"), ("145", "C", "Preferential suspension under end-use"),
    ("277", "A", "Import prohibition"), ("410", "B", "Veterinary control"),
    ("552", "D", "Definitive anti-dumping duty"), ("554", "D", "Definitive countervailing duty"),
    ("672", "O", "Amount of the agricultural component (Meursing table)"),
    ("673", "O", "Amount of the additional duty on sugar (Meursing table)"),
    ("674", "O", "Amount of the additional duty on flour (Meursing table)"),
    ("695", "F", "Additional duties"), ("750", "B", "Import control of organic products"),
]

QUOTAS = [
    # (order number, origin area, [(start, end, volume, unit)], critical threshold)
    # Yearly definitions through 2028, so that the demo (and the tests that draw "now") keep
    # an open quota period after 2026.
    ("094450", "1011", [("2025-01-01", "2025-12-31", "50000", "KGM"), ("2026-01-01", "2026-12-31", "60000", "KGM"),
                        ("2027-01-01", "2027-12-31", "60000", "KGM"), ("2028-01-01", "2028-12-31", "60000", "KGM")], 75),
    ("091234", "1100", [("2025-01-01", "2025-12-31", "1500000", "KGM"), ("2026-01-01", "2026-12-31", "2000000", "KGM"),
                        ("2027-01-01", "2027-12-31", "2000000", "KGM"), ("2028-01-01", "2028-12-31", "2000000", "KGM")], 90),
]

EXCHANGE_RATES = {
    # month -> {currency: units per EUR} (illustrative)
    "2026-01-01": {"USD": "1.0412", "GBP": "0.8395", "CNY": "7.6021", "CHF": "0.9388"},
    "2026-02-01": {"USD": "1.0455", "GBP": "0.8371", "CNY": "7.6190", "CHF": "0.9402"},
    "2026-03-01": {"USD": "1.0498", "GBP": "0.8360", "CNY": "7.6433", "CHF": "0.9415"},
}

# ---------------------------------------------------------------- measures


@dataclass
class Cond:
    code: str
    seq: int
    action: str
    cert: str | None = None
    threshold: tuple[str, str | None, str | None] | None = None  # (amount, currency, unit)
    duty: str = ""


@dataclass
class M:
    type: str
    goods: str
    area: str
    duty: str = ""
    start: str = DEFAULT_START
    end: str | None = None
    reg: str = "R2600010"
    ac: str | None = None
    order: str | None = None
    excl: list[str] = field(default_factory=list)
    fn: list[str] = field(default_factory=list)
    conds: list[Cond] = field(default_factory=list)
    suffix: str = "80"


def ladder(base: str, steps: list[tuple[str, str]]) -> list[Cond]:
    """An entry-price ladder: (threshold EUR/100 kg, specific EUR/100 kg), highest first."""
    out = []
    for i, (threshold, specific) in enumerate(steps, start=1):
        duty = f"01 {base}%" + (f"; 04 {specific} EUR DTN" if specific != "0" else "")
        out.append(Cond("V", i, "01", threshold=(threshold, "EUR", "DTN"), duty=duty))
    return out


def veterinary() -> list[Cond]:
    return [Cond("B", 1, "29", cert="N853"), Cond("B", 2, "09")]


COMMON: list[M] = [
    # --- chapter 01: live animals
    M("103", "0102210000", "1011", "01 0%"),
    M("103", "0102291000", "1011", "01 10.2%; 04 93.1 EUR DTN"),
    M("103", "0102299900", "1011", "01 10.2%; 04 93.1 EUR DTN"),
    M("103", "0105111100", "1011", "01 52 EUR MIL"),
    M("103", "0105941000", "1011", "01 20.9 EUR DTN"),
    M("410", "0102000000", "1011", conds=veterinary(), reg="R2600060", fn=["CD624"]),
    M("410", "0105000000", "1011", conds=veterinary(), reg="R2600060", fn=["CD624"]),
    # --- chapter 02: meat, with a tariff quota and a historic levy
    M("103", "0201100000", "1011", "01 12.8%; 04 176.8 EUR DTN"),
    M("103", "0201300000", "1011", "01 12.8%; 04 303.4 EUR DTN"),
    M("122", "0201300000", "1011", "01 20%", order="094450", reg="R2600040", start="2026-01-01"),
    M("122", "0201300000", "1011", "01 20%", order="094450", reg="R2500010", start="2025-01-01", end="2025-12-31"),
    M("103", "0203111000", "1011", "01 53.6 EUR DTN"),
    M("103", "0207141000", "1011", "01 102.4 EUR DTN; 06 12 EUR DTN"),
    M("103", "0207149900", "1011", "01 18.7 EUR DTN"),
    M("410", "0200000000", "1011", conds=veterinary(), reg="R2600060", fn=["CD624"]),
    # --- chapter 03: fish, GSP
    M("103", "0302130000", "1011", "01 2%"),
    M("103", "0302140000", "1011", "01 2%"),
    M("103", "0306170000", "1011", "01 12%"),
    M("142", "0306170000", "2020", "01 4.2%", reg="R2600020"),
    M("103", "0306350000", "1011", "01 12%"),
    M("410", "0300000000", "1011", conds=veterinary(), reg="R2600060", fn=["CD624"]),
    M("103", "0201100000", "1011", "01 20%; 03 301.5 EUR DTN", start="1994-01-01", end="1994-12-31", reg="R9400010"),
    M("142", "0201100000", "2020", "01 20%; 05 150.75 EUR DTN", start="1994-01-01", end="1994-12-31", reg="R9400010"),
    # --- chapter 04: dairy
    M("103", "0401201100", "1011", "01 18.8 EUR DTN"),
    M("103", "0401201900", "1011", "01 18.8 EUR DTN"),
    M("103", "0406103000", "1011", "01 185.2 EUR DTN"),
    M("103", "0406907800", "1011", "01 151 EUR DTN"),
    M("142", "0406907800", "CH", "01 151 EUR DTN; 02 30 EUR DTN", reg="R2600030"),
    M("103", "0409000000", "1011", "01 17.3%"),
    M("142", "0409000000", "2020", "01 14.8%", reg="R2600020"),
    M("410", "0400000000", "1011", conds=veterinary(), reg="R2600060", fn=["CD624"]),
    # --- chapter 07: vegetables, entry prices
    M("103", "0701905000", "1011", "01 11.5%"),
    M("103", "0701909000", "1011", "01 11.5%"),
    M("103", "0709931000", "1011", "01 12.8%", reg="R2600060", fn=["TN701"], conds=ladder("12.8", [
        ("52.6", "0"), ("51.5", "1.1"), ("50.5", "2.1"), ("49.4", "3.2"), ("48.4", "4.2"), ("0", "29.8"),
    ])),
    M("142", "0709931000", "MA", "01 0%", reg="R2600030"),
    M("103", "0709601000", "1011", "01 7.2%"),
    M("103", "0709939000", "1011", "01 12.8%"),
    M("103", "0703101900", "1011", "01 9.6%"),
    M("103", "0703200000", "1011", "01 9.6%; 04 120 EUR DTN"),
    # --- chapter 08: fruit, a preferential quota
    M("103", "0803901000", "1011", "01 114 EUR TNE"),
    M("142", "0803901000", "1100", "01 75 EUR TNE", reg="R2600030"),
    M("103", "0804300000", "1011", "01 5.8%"),
    M("103", "0804400000", "1011", "01 4%"),
    M("103", "0805102200", "1011", "01 16%"),
    M("143", "0805102200", "1100", "01 0%", order="091234", reg="R2600040"),
    M("103", "0805501000", "1011", "01 6.4%"),
    M("103", "0806101000", "1011", "01 11.5%"),
    M("103", "0808108000", "1011", "01 9%"),
    M("142", "0808108000", "1100", "01 4%", reg="R2600030"),
    # --- chapter 09: coffee, organic control
    M("103", "0901110000", "1011", "01 0%"),
    M("103", "0901210000", "1011", "01 7.5%"),
    M("103", "0901220000", "1011", "01 9%"),
    M("142", "0901210000", "2020", "01 2.6%", reg="R2600020"),
    M("750", "0901000000", "1011", reg="R2600060", conds=[Cond("B", 1, "29", cert="C644"), Cond("B", 2, "07")]),
    # --- chapter 17: sugar, historic levies
    M("103", "1701991000", "1011", "01 41.9 EUR DTN"),
    M("103", "1701991000", "1011", "01 0%; 07 53.7 EUR DTN", start="1994-01-01", end="1994-12-31", reg="R9400010"),
    M("142", "1701991000", "2020", "01 0%; 09 26.85 EUR DTN", start="1994-01-01", end="1994-12-31", reg="R9400010"),
    M("103", "1704907100", "1011", "01 9%; 12; 17 18.2%; 21", fn=["TN702"]),
    M("142", "1704907100", "2020", "01 0%; 12; 17 9.1%; 23", reg="R2600020", fn=["TN702"]),
    # --- chapter 18: cocoa and chocolate (Meursing), historic variable components
    M("103", "1801000000", "1011", "01 0%"),
    M("103", "1806310000", "1011", "01 8.3%; 12; 17 18.7%; 21", fn=["TN702"]),
    M("103", "1806321000", "1011", "01 8.3%; 12; 17 18.7%; 21", fn=["TN702"]),
    M("142", "1806321000", "1100", "01 0%; 14; 17 9.3%; 25", reg="R2600030", fn=["TN702"]),
    M("103", "1806901100", "1011", "01 8.3%; 12", fn=["TN702"]),
    M("103", "1806321000", "1011", "01 12%; 11 27.4 EUR DTN", start="1994-01-01", end="1994-12-31", reg="R9400010"),
    M("142", "1806321000", "2020", "01 6%; 13 13.7 EUR DTN", start="1994-01-01", end="1994-12-31", reg="R9400010"),
    # --- chapter 19
    M("103", "1902191000", "1011", "01 7.7 EUR DTN"),
    M("103", "1905311100", "1011", "01 9%; 12; 17 24.2%; 21", fn=["TN702"]),
    M("103", "1905909000", "1011", "01 9%; 12; 17 24.2%; 27", fn=["TN702"]),
    M("103", "1905320500", "1011", "01 9%; 12; 17 20.7%; 27", fn=["TN702"]),
    M("142", "1905909000", "1100", "01 0%; 14; 17 12.1%; 29", reg="R2600030", fn=["TN702"]),
    # --- chapter 20
    M("103", "2008111000", "1011", "01 12.8%"),
    M("103", "2009111100", "1011", "01 33.6%; 04 20.6 EUR DTN; 15 22 EUR DTN; 35 45%"),
    M("103", "2009121000", "1011", "01 12.2%"),
    # --- chapter 22: beverages
    M("103", "2201101100", "1011", "01 0%"),
    M("103", "2202100000", "1011", "01 9.6%"),
    M("103", "2202910000", "1011", "01 6.4%"),
    M("103", "2203000000", "1011", "01 0%"),
    M("103", "2204109800", "1011", "01 32 EUR HLT"),
    M("103", "2204217900", "1011", "01 13.1 EUR HLT"),
    M("103", "2204218000", "1011", "01 13.1 EUR HLT"),
    M("103", "2204219000", "1011", "01 18.6 EUR HLT"),
    M("142", "2204217900", "PT", "31 5 EUR HLT; 33 1.5 EUR HLT", start="1994-01-01", end="1994-12-31", reg="R9400010"),
    M("103", "2208303000", "1011", "01 0%"),
    M("695", "2208303000", "US", "01 25%", reg="R2600050"),
    M("103", "2208401100", "1011", "01 0.6 EUR ASV; 20 3.2 EUR HLT"),
    M("103", "2208601100", "1011", "01 0%"),
    M("103", "2208909100", "1011", "01 1 EUR ASV; 19 6.4 EUR HLT"),
    # --- chapter 24: tobacco
    M("103", "2402100000", "1011", "01 26%"),
    M("103", "2402201000", "1011", "01 10%"),
    M("103", "2402209000", "1011", "01 57.6%"),
    M("103", "2403191000", "1011", "01 74.9%"),
    # --- chapter 27: fuels
    M("103", "2710124500", "1011", "01 4.7%"),
    M("103", "2710194300", "1011", "01 3.5%"),
    M("115", "2710194300", "1011", "01 0%", reg="R2600040"),
    M("103", "2711110000", "1011", "01 0.7%"),
    # --- chapters 61, 62: apparel, GSP with an exclusion (India graduated for textiles)
    M("103", "6109100000", "1011", "01 12%"),
    M("142", "6109100000", "2020", "01 9.6%", reg="R2600020", excl=["IN"]),
    M("142", "6109100000", "1100", "01 0%", reg="R2600030"),
    M("103", "6109902000", "1011", "01 12%"),
    M("103", "6203423100", "1011", "01 12%"),
    M("142", "6203423100", "2020", "01 9.6%", reg="R2600020", excl=["IN"]),
    M("103", "6204440000", "1011", "01 12%"),
    M("103", "6110200000", "1011", "01 12%"),
    M("103", "6110301000", "1011", "01 12%"),
    M("103", "6204620000", "1011", "01 12%"),
    # --- chapter 64: footwear, with a minimum
    M("103", "6402999300", "1011", "01 16.9%; 15 2.5 EUR NPR"),
    M("103", "6403999300", "1011", "01 8%"),
    M("103", "6403911300", "1011", "01 8%"),
    M("142", "6403999300", "2020", "01 4.5%", reg="R2600020"),
    # --- chapter 72: steel, anti-dumping and countervailing by company, sanctions
    M("103", "7208251000", "1011", "01 0%"),
    M("103", "7208390000", "1011", "01 0%"),
    M("552", "7208390000", "CN", "01 18.1%", ac="C001", reg="R2600050", fn=["CD808"]),
    M("552", "7208390000", "CN", "37", ac="C002", reg="R2600050", fn=["CD808"]),
    M("552", "7208390000", "CN", "01 35.9%", ac="C999", reg="R2600050", fn=["CD808"]),
    M("554", "7208390000", "CN", "01 4.6%", ac="C001", reg="R2600050", fn=["CD808"]),
    M("554", "7208390000", "CN", "01 0%", ac="C002", reg="R2600050", fn=["CD808"]),
    M("554", "7208390000", "CN", "01 8.1%", ac="C999", reg="R2600050", fn=["CD808"]),
    M("277", "7208000000", "RU", reg="R2600060", conds=[Cond("Y", 1, "29", cert="Y824"), Cond("Y", 2, "09")]),
    M("277", "7210000000", "RU", reg="R2600060", conds=[Cond("Y", 1, "29", cert="Y824"), Cond("Y", 2, "09")]),
    M("103", "7210491000", "1011", "01 0%"),
    # --- chapter 73
    M("103", "7318159500", "1011", "01 3.7%"),
    M("552", "7318159500", "CN", "01 22.1%", reg="R2600050"),
    M("103", "7323931000", "1011", "01 3.2%"),
    # --- chapter 84: a preferential end-use suspension with minus % CIF
    M("103", "8415101000", "1011", "01 2.7%"),
    M("145", "8415101000", "1100", "01 2.7%; 36 1%", reg="R2600030"),
    M("103", "8418102000", "1011", "01 1.9%"),
    M("103", "8471300000", "1011", "01 0%"),
    M("103", "8471500000", "1011", "01 0%"),
    M("103", "8471700000", "1011", "01 0%"),
    # --- chapter 85: an autonomous suspension
    M("103", "8507600000", "1011", "01 2.7%"),
    M("112", "8507600000", "1011", "01 0%", reg="R2600040"),
    M("103", "8516310000", "1011", "01 2.7%"),
    M("103", "8517130000", "1011", "01 0%"),
    M("103", "8517620000", "1011", "01 0%"),
    M("103", "8504409000", "1011", "01 2.7%"),
    M("103", "8528729100", "1011", "01 14%"),
    M("142", "8528729100", "KR", "01 0%", reg="R2600030"),
    # --- chapter 87: vehicles, countervailing duties on electric cars, additional duties
    M("103", "8703231900", "1011", "01 10%"),
    M("142", "8703231900", "1100", "01 0%", reg="R2600030"),
    M("103", "8703801000", "1011", "01 10%"),
    M("103", "8703401000", "1011", "01 10%"),
    M("103", "8708299000", "1011", "01 4.5%"),
    M("103", "8708703500", "1011", "01 4.5%"),
    M("554", "8703801000", "CN", "01 17%", ac="C101", reg="R2600050", fn=["CD808"]),
    M("554", "8703801000", "CN", "01 18.8%", ac="C102", reg="R2600050", fn=["CD808"]),
    M("554", "8703801000", "CN", "01 35.3%", ac="C999", reg="R2600050", fn=["CD808"]),
    M("103", "8711400000", "1011", "01 6%"),
    M("695", "8711400000", "US", "01 31%", reg="R2600050"),
    M("103", "8712003000", "1011", "01 14%"),
    M("552", "8712003000", "CN", "01 48.5%", reg="R2600050"),
]

# Supplementary units (measure type 109, expression 99) for the lines that have one.
COMMON += [M("109", g[0], "1011", f"99 {g[4]}", reg="R2600010", suffix=g[1]) for g in GOODS if g[4]]

# The Meursing table as measures 672/673/674 on the Meursing additional codes, attached to
# cocoa beans (1801, a line with no Meursing duty of its own): full figures erga omnes, reduced ones for the FTA partners.
for code, (full, reduced) in MEURSING.items():
    for figures, area in ((full, "1011"), (reduced, "1100")):
        for ty, amount in zip(("672", "673", "674"), figures):
            COMMON.append(M(ty, "1801000000", area, f"01 {amount:.2f} EUR DTN", reg="R2600070", ac=code))

# --- national layers (illustrative rates; national measure types are alphabetic)


HEADINGS = [g[0] for g in GOODS if g[2] == 0 and not g[0].endswith("00000000")]


def vat(standard: str, reduced: str, water_reduced: bool) -> list[M]:
    """One VAT measure per heading: food (chapters 01 to 20) at the reduced rate, the rest
    at the standard rate; waters and soft drinks reduced in NL, standard in DE."""
    out = []
    for h in HEADINGS:
        food = int(h[:2]) <= 20 or (water_reduced and h[:4] in ("2201", "2202"))
        ty, rate = ("VTR", reduced) if food else ("VTS", standard)
        out.append(M(ty, h, "1011", f"01 {rate}%", reg=""))
    return out


NL: list[M] = vat("21", "9", True) + [
    M("EXB", "2203000000", "1011", "01 46.44 EUR HLT", reg="", start="2026-01-01"),
    M("EXB", "2203000000", "1011", "01 44.08 EUR HLT", reg="", start="2025-01-01", end="2025-12-31"),
    M("EXS", "2204109800", "1011", "01 94.72 EUR HLT", reg=""),
    M("EXW", "2204210000", "1011", "01 94.72 EUR HLT", reg=""),
    M("EXA", "2208000000", "1011", "01 18.63 EUR LPA", reg=""),
    M("EXC", "2402100000", "1011", "01 5%", reg=""),
    M("EXT", "2402201000", "1011", "01 322.43 EUR MIL", reg=""),
    M("EXT", "2402209000", "1011", "01 322.43 EUR MIL", reg=""),
    M("EXF", "2403191000", "1011", "01 166.6 EUR KGM", reg=""),
    M("EXG", "2710124500", "1011", "01 789.13 EUR KLT", reg=""),
    M("EXH", "2710194300", "1011", "01 516.69 EUR KLT", reg=""),
    M("NRL", "0105000000", "1011", reg="", conds=[Cond("B", 1, "29", cert="9NL1"), Cond("B", 2, "09")]),
]
for m in NL:
    m.reg = "N2600NL1"
NL_CERTIFICATES = [("9NL1", "NVWA import licence for live poultry")]

DE: list[M] = vat("19", "7", False) + [
    M("EXB", "2203000000", "1011", "01 9.44 EUR HLT", reg=""),
    M("EXS", "2204109800", "1011", "01 136 EUR HLT", reg=""),
    M("EXI", "2204219000", "1011", "01 153 EUR HLT", reg=""),
    M("EXA", "2208000000", "1011", "01 13.03 EUR LPA", reg=""),
    M("EXC", "2402100000", "1011", "01 14 EUR MIL", reg=""),
    M("EXT", "2402209000", "1011", "01 117.3 EUR MIL", reg=""),
    M("EXF", "2403191000", "1011", "01 60.8 EUR KGM", reg=""),
    M("EXG", "2710124500", "1011", "01 654.5 EUR KLT", reg=""),
    M("EXH", "2710194300", "1011", "01 470.4 EUR KLT", reg=""),
    M("EXK", "0901210000", "1011", "01 2.19 EUR KGM", reg=""),
    M("EXK", "0901220000", "1011", "01 2.19 EUR KGM", reg=""),
    M("NPI", "2402201000", "1011", reg=""),
]
for m in DE:
    m.reg = "N2600DE1"

NATIONAL_TYPES = {
    "VTS": ("P", "VAT standard rate"), "VTR": ("P", "VAT reduced rate"),
    "EXA": ("Q", "Excise: spirits (ethyl alcohol)"), "EXI": ("Q", "Excise: intermediate products"),
    "EXB": ("Q", "Excise: beer"), "EXW": ("Q", "Excise: wine"), "EXS": ("Q", "Excise: sparkling wine"),
    "EXT": ("Q", "Excise: cigarettes"), "EXC": ("Q", "Excise: cigars and cigarillos"),
    "EXF": ("Q", "Excise: fine-cut smoking tobacco"), "EXG": ("Q", "Excise: petrol (unleaded)"),
    "EXH": ("Q", "Excise: gas oil (diesel)"), "EXK": ("Q", "Excise: coffee"),
    "NPI": ("A", "National import prohibition"), "NRL": ("B", "National import restriction: licence required"),
}

# ---------------------------------------------------------------- XML


class Envelope:
    RECORD_CODES = {
        "footnote": ("200", "00"), "footnote.description.period": ("200", "05"),
        "footnote.description": ("200", "10"), "certificate": ("205", "00"),
        "certificate.description.period": ("205", "05"), "certificate.description": ("205", "10"),
        "measure.type": ("235", "00"), "measure.type.description": ("235", "05"),
        "additional.code": ("245", "00"), "additional.code.description.period": ("245", "05"),
        "additional.code.description": ("245", "10"), "geographical.area": ("250", "00"),
        "geographical.area.description.period": ("250", "05"),
        "geographical.area.description": ("250", "10"),
        "geographical.area.membership": ("250", "15"), "base.regulation": ("285", "00"),
        "quota.order.number": ("360", "00"), "quota.order.number.origin": ("360", "10"),
        "quota.definition": ("370", "00"), "goods.nomenclature": ("400", "00"),
        "goods.nomenclature.indents": ("400", "05"),
        "goods.nomenclature.description.period": ("400", "10"),
        "goods.nomenclature.description": ("400", "15"), "measure": ("430", "00"),
        "measure.component": ("430", "05"), "measure.condition": ("430", "10"),
        "measure.condition.component": ("430", "11"),
        "measure.excluded.geographical.area": ("430", "15"),
        "footnote.association.measure": ("430", "20"), "monetary.exchange.period": ("440", "00"),
        "monetary.exchange.rate": ("440", "05"),
    }

    def __init__(self, envelope_id: str, comment: str):
        self.id = envelope_id
        self.comment = comment
        self.records: list[str] = []

    def add(self, element: str, fields: list[tuple[str, object]]) -> None:
        code, sub = self.RECORD_CODES[element]
        n = len(self.records) + 1
        body = "".join(
            f"\n            <oub:{k}>{escape(str(v))}</oub:{k}>" for k, v in fields if v is not None
        )
        self.records.append(
            f"""    <env:app.message id="{n}">
      <oub:transmission xmlns:oub="urn:publicid:-:DGTAXUD:TARIC:MESSAGE:1.0" xmlns:env="urn:publicid:-:DGTAXUD:GENERAL:ENVELOPE:1.0">
        <oub:record>
          <oub:transaction.id>1</oub:transaction.id>
          <oub:record.code>{code}</oub:record.code>
          <oub:subrecord.code>{sub}</oub:subrecord.code>
          <oub:record.sequence.number>{n}</oub:record.sequence.number>
          <oub:update.type>3</oub:update.type>
          <oub:{element}>{body}
          </oub:{element}>
        </oub:record>
      </oub:transmission>
    </env:app.message>
"""
        )

    def xml(self) -> str:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<!-- {self.comment} Generated by crates/server/demo/generate.py: edit the tables there, not this file. -->\n"
            f'<env:envelope xmlns="urn:publicid:-:DGTAXUD:TARIC:MESSAGE:1.0" xmlns:env="urn:publicid:-:DGTAXUD:GENERAL:ENVELOPE:1.0" id="{self.id}">\n'
            '  <env:transaction id="1">\n' + "".join(self.records) + "  </env:transaction>\n</env:envelope>\n"
        )


# SIDs are in ranges of their own (9,000,000 and up) so that the demo can share a common
# layer with other TARIC3 data. Two chapter lines keep the SIDs (line, indent, description
# period) of the UK reference envelopes used by the tests, so that importing those on top
# of the demo replaces these lines instead of duplicating them.
AREA_SID = {a[0]: 9_000_000 + i for i, a in enumerate(AREAS)}
GOODS_SID = {(g[0], g[1]): 9_100_000 + i for i, g in enumerate(GOODS)}
GOODS_SID[("0100000000", "80")] = 80000001
GOODS_SID[("7200000000", "80")] = 80000029
AC_SID = {t + c: 9_400_000 + i for i, (t, c, _) in enumerate(ADDITIONAL_CODES)}


def indent_sid(goods_sid: int) -> int:
    return goods_sid + 1_000_000


def period_sid(goods_sid: int) -> int:
    return goods_sid + 2_000_000


def parse_component(text: str) -> list[tuple[str, object]]:
    parts = text.split()
    expr, rest = parts[0], parts[1:]
    amount = currency = unit = qualifier = None
    if expr == "99":
        unit = rest[0]
    elif rest:
        if rest[0].endswith("%"):
            amount = rest[0][:-1]
        else:
            amount = rest[0]
            currency = rest[1]
            unit = rest[2] if len(rest) > 2 else None
            qualifier = rest[3] if len(rest) > 3 else None
    return [
        ("duty.expression.id", expr),
        ("duty.amount", amount),
        ("monetary.unit.code", currency),
        ("measurement.unit.code", unit),
        ("measurement.unit.qualifier.code", qualifier),
    ]


def components(duty: str) -> list[list[tuple[str, object]]]:
    return [parse_component(c.strip()) for c in duty.split(";") if c.strip()]


def add_measures(env: Envelope, measures: list[M], first_sid: int, first_condition_sid: int) -> None:
    condition_sid = first_condition_sid
    for i, m in enumerate(measures):
        sid = first_sid + i
        ac_type, ac_code = (m.ac[0], m.ac[1:]) if m.ac else (None, None)
        env.add("measure", [
            ("measure.sid", sid), ("measure.type", m.type), ("geographical.area", m.area),
            ("goods.nomenclature.item.id", m.goods), ("additional.code.type", ac_type),
            ("additional.code", ac_code), ("ordernumber", m.order),
            ("validity.start.date", m.start), ("measure.generating.regulation.role", "1"),
            ("measure.generating.regulation.id", m.reg), ("validity.end.date", m.end),
            ("justification.regulation.role", "1" if m.end else None),
            ("justification.regulation.id", m.reg if m.end else None),
            ("stopped.flag", "0"), ("geographical.area.sid", AREA_SID[m.area]),
            ("goods.nomenclature.sid", GOODS_SID[(m.goods, m.suffix)]),
            ("additional.code.sid", AC_SID[m.ac] if m.ac else None),
        ])
        for c in components(m.duty):
            env.add("measure.component", [("measure.sid", sid)] + c)
        for c in m.conds:
            amount, currency, unit = c.threshold or (None, None, None)
            env.add("measure.condition", [
                ("measure.condition.sid", condition_sid), ("measure.sid", sid),
                ("condition.code", c.code), ("component.sequence.number", c.seq),
                ("condition.duty.amount", amount), ("condition.monetary.unit.code", currency),
                ("condition.measurement.unit.code", unit), ("action.code", c.action),
                ("certificate.type.code", c.cert[0] if c.cert else None),
                ("certificate.code", c.cert[1:] if c.cert else None),
            ])
            for cc in components(c.duty):
                env.add("measure.condition.component", [("measure.condition.sid", condition_sid)] + cc)
            condition_sid += 1
        for ex in m.excl:
            env.add("measure.excluded.geographical.area", [
                ("measure.sid", sid), ("excluded.geographical.area", ex),
                ("geographical.area.sid", AREA_SID[ex]),
            ])
        for f in m.fn:
            env.add("footnote.association.measure", [
                ("measure.sid", sid), ("footnote.type.id", f[:2]), ("footnote.id", f[2:]),
            ])


def add_measure_types(env: Envelope, types: list[tuple[str, str, str]]) -> None:
    for ty, series, description in types:
        env.add("measure.type", [
            ("measure.type.id", ty), ("validity.start.date", NOMENCLATURE_FROM),
            ("trade.movement.code", "0"), ("priority.code", "1"),
            ("measure.component.applicable.code", "0"), ("origin.dest.code", "0"),
            ("order.number.capture.code", "1" if ty in ("122", "143") else "2"),
            ("measure.explosion.level", "10"), ("measure.type.series.id", series),
        ])
        env.add("measure.type.description", [
            ("measure.type.id", ty), ("language.id", "EN"), ("description", description),
        ])


def add_certificates(env: Envelope, certificates: list[tuple[str, str]], first_period: int) -> None:
    for i, (cert, description) in enumerate(certificates):
        t, c = cert[0], cert[1:]
        env.add("certificate", [("certificate.type.code", t), ("certificate.code", c),
                                ("validity.start.date", NOMENCLATURE_FROM)])
        env.add("certificate.description.period", [
            ("certificate.description.period.sid", first_period + i), ("certificate.type.code", t),
            ("certificate.code", c), ("validity.start.date", NOMENCLATURE_FROM)])
        env.add("certificate.description", [
            ("certificate.description.period.sid", first_period + i), ("language.id", "EN"),
            ("certificate.type.code", t), ("certificate.code", c), ("description", description)])


def add_regulation(env: Envelope, reg: str, start: str, end: str | None, text: str) -> None:
    env.add("base.regulation", [
        ("base.regulation.role", "1"), ("base.regulation.id", reg), ("published.date", start),
        ("officialjournal.number", "L 1"), ("officialjournal.page", "1"),
        ("validity.start.date", start), ("validity.end.date", end),
        ("community.code", "1"), ("regulation.group.id", "DEM"),
        ("replacement.indicator", "0"), ("stopped.flag", "0"), ("information.text", text),
        ("approved.flag", "1"),
    ])


def common() -> Envelope:
    env = Envelope("260001", "Portorium demo tariff: the common layer (TARIC3, valid against taric3.xsd).")
    for area, kind, description in AREAS:
        sid = AREA_SID[area]
        env.add("geographical.area", [
            ("geographical.area.sid", sid), ("geographical.area.id", area),
            ("validity.start.date", NOMENCLATURE_FROM), ("geographical.code", kind)])
        env.add("geographical.area.description.period", [
            ("geographical.area.description.period.sid", sid + 100_000),
            ("geographical.area.sid", sid), ("validity.start.date", NOMENCLATURE_FROM),
            ("geographical.area.id", area)])
        env.add("geographical.area.description", [
            ("geographical.area.description.period.sid", sid + 100_000), ("language.id", "EN"),
            ("geographical.area.sid", sid), ("geographical.area.id", area),
            ("description", description)])
    for group, member, start, end in MEMBERSHIPS:
        env.add("geographical.area.membership", [
            ("geographical.area.sid", AREA_SID[member]),
            ("geographical.area.group.sid", AREA_SID[group]),
            ("validity.start.date", start), ("validity.end.date", end)])
    for reg, start, end, text in REGULATIONS:
        add_regulation(env, reg, start, end, text)
    add_measure_types(env, MEASURE_TYPES)
    add_certificates(env, CERTIFICATES, 9_420_000)
    for i, (t, f, description) in enumerate(FOOTNOTES):
        env.add("footnote", [("footnote.type.id", t), ("footnote.id", f),
                             ("validity.start.date", NOMENCLATURE_FROM)])
        env.add("footnote.description.period", [
            ("footnote.description.period.sid", 9_410_000 + i), ("footnote.type.id", t),
            ("footnote.id", f), ("validity.start.date", NOMENCLATURE_FROM)])
        env.add("footnote.description", [
            ("footnote.description.period.sid", 9_410_000 + i), ("language.id", "EN"),
            ("footnote.type.id", t), ("footnote.id", f), ("description", description)])
    for t, c, description in ADDITIONAL_CODES:
        sid = AC_SID[t + c]
        env.add("additional.code", [
            ("additional.code.sid", sid), ("additional.code.type.id", t), ("additional.code", c),
            ("validity.start.date", NOMENCLATURE_FROM)])
        env.add("additional.code.description.period", [
            ("additional.code.description.period.sid", sid + 10000), ("additional.code.sid", sid),
            ("additional.code.type.id", t), ("additional.code", c),
            ("validity.start.date", NOMENCLATURE_FROM)])
        env.add("additional.code.description", [
            ("additional.code.description.period.sid", sid + 10000), ("language.id", "EN"),
            ("additional.code.sid", sid), ("additional.code.type.id", t), ("additional.code", c),
            ("description", description)])
    for (code, suffix, indent, description, _) in GOODS:
        sid = GOODS_SID[(code, suffix)]
        env.add("goods.nomenclature", [
            ("goods.nomenclature.sid", sid), ("goods.nomenclature.item.id", code),
            ("producline.suffix", suffix), ("validity.start.date", NOMENCLATURE_FROM),
            ("statistical.indicator", "0")])
        env.add("goods.nomenclature.indents", [
            ("goods.nomenclature.indent.sid", indent_sid(sid)), ("goods.nomenclature.sid", sid),
            ("validity.start.date", NOMENCLATURE_FROM), ("number.indents", f"{indent:02d}"),
            ("goods.nomenclature.item.id", code), ("productline.suffix", suffix)])
        env.add("goods.nomenclature.description.period", [
            ("goods.nomenclature.description.period.sid", period_sid(sid)),
            ("goods.nomenclature.sid", sid), ("validity.start.date", NOMENCLATURE_FROM),
            ("goods.nomenclature.item.id", code), ("productline.suffix", suffix)])
        env.add("goods.nomenclature.description", [
            ("goods.nomenclature.description.period.sid", period_sid(sid)), ("language.id", "EN"),
            ("goods.nomenclature.sid", sid), ("goods.nomenclature.item.id", code),
            ("productline.suffix", suffix), ("description", description)])
    for i, (order, area, definitions, threshold) in enumerate(QUOTAS):
        sid = 9_430_000 + i
        env.add("quota.order.number", [
            ("quota.order.number.sid", sid), ("quota.order.number.id", order),
            ("validity.start.date", definitions[0][0])])
        env.add("quota.order.number.origin", [
            ("quota.order.number.origin.sid", 9_431_000 + i), ("quota.order.number.sid", sid),
            ("geographical.area.id", area), ("validity.start.date", definitions[0][0]),
            ("geographical.area.sid", AREA_SID[area])])
        for j, (start, end, volume, unit) in enumerate(definitions):
            env.add("quota.definition", [
                ("quota.definition.sid", 9_432_000 + 10 * i + j), ("quota.order.number.id", order),
                ("validity.start.date", start), ("validity.end.date", end),
                ("quota.order.number.sid", sid), ("volume", volume), ("initial.volume", volume),
                ("measurement.unit.code", unit), ("maximum.precision", "3"),
                ("critical.state", "N"), ("critical.threshold", threshold),
                ("description", f"Demo quota {order}")])
    add_measures(env, COMMON, 9_600_000, 9_700_000)
    for i, (month, rates) in enumerate(EXCHANGE_RATES.items()):
        sid = 9_440_000 + i
        env.add("monetary.exchange.period", [
            ("monetary.exchange.period.sid", sid), ("parent.monetary.unit.code", "EUR"),
            ("validity.start.date", month)])
        for currency, rate in rates.items():
            env.add("monetary.exchange.rate", [
                ("monetary.exchange.period.sid", sid), ("child.monetary.unit.code", currency),
                ("exchange.rate", rate)])
    return env


def national(tenant: str, measures: list[M], first_sid: int, first_condition_sid: int,
             envelope_id: str, certificates: list[tuple[str, str]]) -> Envelope:
    env = Envelope(envelope_id, f"Portorium demo tariff: the national layer of {tenant}, illustrative "
                   "rates. National measure types are alphabetic, which taric3.xsd (MeasureTypeId "
                   "[0-9]{3}|[0-9]{6}) does not allow: this envelope is TARIC3 with that national "
                   "extension.")
    add_regulation(env, measures[0].reg, "2025-01-01", None, f"Demo: national measures of {tenant}")
    used = sorted({m.type for m in measures})
    add_measure_types(env, [(t, NATIONAL_TYPES[t][0], NATIONAL_TYPES[t][1]) for t in used])
    add_certificates(env, certificates, first_condition_sid + 50_000)
    add_measures(env, measures, first_sid, first_condition_sid)
    return env


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    files = {
        "common.xml": common(),
        "nl.xml": national("NL", NL, 9_610_000, 9_710_000, "260101", NL_CERTIFICATES),
        "de.xml": national("DE", DE, 9_620_000, 9_720_000, "260201", []),
    }
    for name, env in files.items():
        with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
            f.write(env.xml())
        print(f"{name}: {len(env.records)} records")
    print(f"{len(GOODS)} nomenclature lines, {len(COMMON)} common measures, "
          f"{len(NL)} NL and {len(DE)} DE measures")

if __name__ == "__main__":
    main()
