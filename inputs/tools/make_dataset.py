"""Write the korea-2025 dataset (the CSV tables of inputs/) from the figures and derivations below.

Every number here is either sourced (FACTS.md / FACTS part 2 / part 3, cited as F, F2, F3),
derived from sourced numbers ([D], arithmetic shown), an ASSUMPTION, or a CALIBRATION
setting (set so the baseline hits a named target).  SOURCES.md repeats the reasoning.

Run from the repository root:  .venv/bin/python inputs/tools/make_dataset.py
It writes the CSVs into inputs/ (one folder up) from the calibration settings in
inputs/tools/calibration.txt; `inputs/tools/calibrate.py` solves for those settings and
`inputs/tools/lp_check.py` checks the baseline.  Then `make inputs-xlsx` rebuilds the workbook.
"""

from __future__ import annotations

import csv
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent      # inputs/
NAME = "korea-2025"                              # settings.csv `name`

# ----------------------------------------------------------------------------------------
# Prices, USD/t, FOB, VAT excluded.  Price year: 2024 (the year of KITA's 89.9 % magnet share)
# ----------------------------------------------------------------------------------------
# NdPr oxide and metal, FOB China, Fastmarkets: 18 Apr 2024 oxide 53-55, metal 66-68 $/kg;
# 20 Jun 2024 oxide 50-52, metal 62-64 (F3 §1).  Midpoints 54/67 and 51/63; mean 52.5 / 65.
NDPR_OXIDE = 52_500
NDPR_METAL = 65_000
METAL_RATIO = NDPR_METAL / NDPR_OXIDE            # 1.238 [D]; SMM 31 Dec 2025 gives 1.21 (F3 §1)
# Dy and Tb oxide, USGS MCS 2025 annual averages 2024 (Argus): Dy 260, Tb 810 $/kg (F §3a).
DY_OXIDE, TB_OXIDE = 260_000, 810_000
DY_SHARE = 0.8                                   # ASSUMPTION: Dy:Tb = 80:20 by weight
DYTB_OXIDE = round(DY_SHARE * DY_OXIDE + (1 - DY_SHARE) * TB_OXIDE, -2)      # 370,000
DYTB_METAL = round(DYTB_OXIDE * METAL_RATIO, -2)  # ASSUMPTION: NdPr metal/oxide ratio carried over
CELA_OXIDE = 1_000                               # USGS 2024: Ce oxide 1, La oxide 1 $/kg (F §3a)
# China's NdFeB magnet exports 2024: 58,152 t, USD 2.86 bn (Adamas, China customs; F §3e);
# customs export values are FOB.  2.86e9 / 58,152 = 49,182 $/t [D].
MAGNET_CN = 49_200
# US concentrate: USGS MCS 2025, 45,000 t REO valued at USD 260 M (2024e) = 5,778 $/t REO [D].
CONCENTRATE = 5_780

# Ex-China prices in the baseline (2024, before the April 2025 controls):
#  NdPr: Benchmark (Jul 2025): Europe PrNd 5 % below China, N. America = China + freight (F §3b)
#        -> ex-China NdPr FOB = China FOB.
#  Dy/Tb: Argus, Europe early Apr 2025 Dy 250-310 $/kg, Tb 930-1,000 (F §3d) -- at the 2024 USGS
#        level (260 / 810) -> parity before the controls.
#  Magnets: ex-China premium +10 to +30 $/kg over Chinese prices (Neo, Reuters 2025-07-01);
#        Korean buyers pay +15-20 % for Vietnam-made (same source) (F2 §4b).
MAG_PREMIUM_LOW, MAG_PREMIUM_MID, MAG_PREMIUM_HIGH = 10_000, 20_000, 30_000
# Separated products and metals outside China: the two sourced 2025 spreads conflict --
#  Benchmark (Jul 2025): Europe PrNd 5 % BELOW China (F §3b);
#  Argus delivered Europe NdPr oxide 82.50-85 $/kg (25 Sep 2025) vs SMM China 550,000-580,000
#  CNY/t (15 Sep 2025) / 1.13 VAT / 7.18 CNY/USD (Reuters' Aug 2025 conversion, F3 §1) = 69.6 $/kg
#  -> 20 % ABOVE.  ASSUMPTION: the midpoint, +7.6 %, for every ex-China oxide and metal offer
#  (exact parity would leave only freight, 0.1-0.2 % of value, between China and Lynas/MP: the
#  observed dependence would then be unexplained and the plan would flip on a 0.2 % price move).
SEP25_CN = 565_000 / 1.13 / 7.18
EXCN_SPREADS = (-0.05, 83_750 / SEP25_CN - 1)
EXCN = round(1 + sum(EXCN_SPREADS) / 2, 3)       # 1.076
VN_BUYER_PREMIUM = 0.175                         # midpoint of +15-20 %
# Japanese compounds and metals are re-processed imports (Japan mines none, F §1a; ~70 % of its
# RE imports from China, F §5a): ASSUMPTION of a 5 % processing/trading margin over FOB China.
JP_MARGIN = 1.05

# Freight, USD/t: ASSUMPTION (RE freight [NF]; generic container rates 22-93 $/t, F2 §7).
FREIGHT = {"CN": 50, "JP": 50, "VN": 80, "PH": 80, "MY": 80, "AU": 100,
           "US": 150, "FR": 150, "EE": 150}
MFN = 0.03                                       # ASSUMPTION (line rates [NF], F §4c, F2 §1)


def landed(price: float, country: str) -> float:
    """Landed cost of a price FOB ``country``: (price + freight) x (1 + MFN duty)."""
    return (price + FREIGHT[country]) * (1 + MFN)


# ----------------------------------------------------------------------------------------
# Magnet recipe (SGI Vina design, Star Group: 121.1 t PrNd + 7.53 t DyFe a month for
# 4,000 t/yr of magnets, F2 §3 [S]) and costs
# ----------------------------------------------------------------------------------------
NDPR_PER_MAGNET = round(121.1 * 12 / 4000, 4)    # 0.3633 t NdPr metal per t magnet [D]
DYTB_PER_MAGNET = round(7.53 * 12 / 4000, 4)     # 0.0226 t DyFe per t magnet [D]; DyFe counted
                                                 # as dytb-metal (ASSUMPTION)
# Non-RE cost of a magnet: RE raw materials are 60-70 % (vendor) / 60-75 % of magnet cost
# (F §3e [S]) -> non-RE 30-40 %; midpoint 35 % of the Chinese export unit value.
MAGNET_CONVERSION = round(0.35 * MAGNET_CN, -1)  # 17,220
# Check: RE content of a Chinese magnet at Chinese FOB prices
RE_CONTENT = NDPR_PER_MAGNET * NDPR_METAL + DYTB_PER_MAGNET * DYTB_METAL

# stoichiometric 0.850 for 75:25 NdPr (F §6 [D]); process loss [NF], none assumed
METAL_YIELD = 0.85
# CALIBRATION: conversion cost of the Korean metal makers, set below China's implied margin
# (NDPR_METAL - NDPR_OXIDE / 0.85 = 3,235 $/t [D]) so that KSM and Seongan run at their
# demonstrated rates in the baseline (they do produce: F3 §6, F2 §5).
KR_METAL_COST = 1_500

# ----------------------------------------------------------------------------------------
# Separation: joint production in the proportions of Mountain Pass ore
# MP Materials 10-K FY2021, estimated distribution of TREO: Ce 50.2 %, La 32.3 %, NdPr 15.7 %,
# SEG+ 1.8 % (F §6 [R]).  Dy+Tb inside SEG+ is [NF]: ASSUMPTION 0.1 % of TREO.
# ----------------------------------------------------------------------------------------
MP_NDPR, MP_CELA, MP_DYTB = 0.157, 0.502 + 0.323, 0.001
SEP_RECOVERY = 0.90     # ASSUMPTION (plant recovery [NF], F §6, F2 §3)
SEP_YIELD = round(MP_NDPR * SEP_RECOVERY, 4)     # t NdPr oxide per t REO in concentrate
SEP_DYTB = round(MP_DYTB / MP_NDPR, 5)           # t Dy/Tb oxide per t NdPr oxide
SEP_CELA = round(MP_CELA / MP_NDPR, 4)           # t Ce/La oxide per t NdPr oxide
# ASSUMPTION: separation cost = product value minus concentrate cost at 2024 prices, per t NdPr
SEP_COST = round(NDPR_OXIDE + SEP_DYTB * DYTB_OXIDE + SEP_CELA * CELA_OXIDE
                 - landed(CONCENTRATE, "US") / SEP_YIELD, -2)

# ----------------------------------------------------------------------------------------
# Demand (t/yr)
# ----------------------------------------------------------------------------------------
# Magnets: China -> Korea 2024 ~6,400 t (58,152 x 0.11, F2 §2a [D]) over China's 89.9 % value
# share; non-China tonnage from the value share (see calibrate.py) -> ~7,000 t of imports.
MAGNET_DEMAND = 7_000
# Metals: KITA, Jan-Sep 2022 RE metal imports USD 7.8 M (F3 §3) -> 10.4 M/yr.  At 2022 prices
# (Nd oxide 134 $/kg, Dy 382, Tb 2,051, F §3a; x 1.238 for metal) and Dy/Tb : NdPr by the magnet
# recipe (0.0226 / 0.3633), 10.4e6 / (165.9 + 0.0622 x 886.2) = 47 t NdPr metal and 2.9 t Dy/Tb.
IMPORT_METAL_2022 = 7.8e6 * 12 / 9
_p22_ndpr = 134_000 * METAL_RATIO
_p22_dytb = (DY_SHARE * 382_000 + (1 - DY_SHARE) * 2_051_000) * METAL_RATIO
_ratio = DYTB_PER_MAGNET / NDPR_PER_MAGNET
NDPR_METAL_IMPORTS = IMPORT_METAL_2022 / (_p22_ndpr + _ratio * _p22_dytb)
DYTB_METAL_DEMAND = 3                           # 2.9 t [D], rounded
KSM_METAL_CAP = 30      # ASSUMPTION: 10 t NdPr ingot sold Sep-Dec 2022 (ASM) -> ~30 t/yr
SEONGAN_METAL_CAP = 60  # ASSUMPTION: 30 t oxide -> ~25 t metal, Nov 2024-Mar 2025 -> ~60 t/yr
NDPR_METAL_DEMAND = round(NDPR_METAL_IMPORTS + KSM_METAL_CAP + SEONGAN_METAL_CAP)   # 137
# Oxides: ASSUMPTIONS (Korean tonnages [NF]); scale from KCS/KOMIR history (F §5b, F2 §2b)
NDPR_OXIDE_DEMAND = 50   # direct uses of Nd/Pr compounds outside metal making (the metal makers'
                         # ~108 t of feed is drawn by the processes)
DYTB_OXIDE_DEMAND = 3
CELA_OXIDE_DEMAND = 2_100

# Values of lost supply (USD/t), where argued: the highest prices buyers were reported to pay
# during the 2025 controls.
# Dy/Tb: Argus Europe May 2025 Dy up to 1,000 $/kg, Tb up to 4,000 (F §3d) -> 0.8 x 1,000 +
# 0.2 x 4,000 = 1,600 $/kg oxide; metal x 1.238.
SHORT_DYTB_OXIDE = 1_600_000
SHORT_DYTB_METAL = round(SHORT_DYTB_OXIDE * METAL_RATIO, -4)
# Magnets: European magnet prices reached ~6x Chinese prices (IEA, Oct 2025, F §3d [S]).
SHORT_MAGNET = 6 * MAGNET_CN

# ----------------------------------------------------------------------------------------
# Benchmarks (zone reference prices, none published: F §3c, F2 §6 [NF])
# ----------------------------------------------------------------------------------------
BENCH_NDPR_OXIDE = 110_000                       # ASSUMPTION: the DoD-MP floor as the reference
BENCH_NDPR_METAL = round(BENCH_NDPR_OXIDE * METAL_RATIO, -2)
BENCH_MAGNET = round(NDPR_PER_MAGNET * BENCH_NDPR_METAL + DYTB_PER_MAGNET * DYTB_METAL
                     + MAGNET_CONVERSION, -2)
LOW_NDPR_OXIDE = 75_000                          # Project Blue incentive price, low end (F2 §4b)
LOW_NDPR_METAL = round(LOW_NDPR_OXIDE * METAL_RATIO, -2)
LOW_MAGNET = round(NDPR_PER_MAGNET * LOW_NDPR_METAL + DYTB_PER_MAGNET * DYTB_METAL
                   + MAGNET_CONVERSION, -2)

# ----------------------------------------------------------------------------------------
# Retaliation: ex-China price factors ("as the sources say they did")
# ----------------------------------------------------------------------------------------
# Dy/Tb: Argus Europe 6 May 2025 vs early April: Dy 700-1,000 vs 250-310, Tb 2,000-4,000 vs
# 930-1,000 (F §3d).  Mix at 80:20: (0.8 x 850 + 0.2 x 3,000) / (0.8 x 280 + 0.2 x 965) = 3.07.
# Benchmark Jul 2025 CIF Europe Dy 800, Tb 3,625 vs USGS 2024 260 / 810: (640 + 725) / 370 = 3.69.
# Mean 3.38 -> 3.4.
F_DYTB_VS_CN = round(((0.8 * 850 + 0.2 * 3000) / (0.8 * 280 + 0.2 * 965)
                      + (0.8 * 800 + 0.2 * 3625) / DYTB_OXIDE * 1000) / 2, 1)    # 3.4
F_DYTB = round(F_DYTB_VS_CN / EXCN, 2)           # on the ex-China baseline price (already x EXCN)
# NdPr: SMM early Jan 2026, overseas Nd oxide FOB 128-148 $/kg vs SMM China 31 Dec 2025
# 605,000-608,000 CNY/t incl. 13 % VAT, at 7.0 CNY/USD: the rate implied by Reuters' own
# conversions (632,000 CNY = $88/kg in Aug 2025 -> 7.18; 850,000 CNY = $123/kg on 18 Feb 2026 ->
# 6.91; F3 §1), taken between the two for 31 Dec 2025 -> 76.7 $/kg ex-VAT; 138 / 76.7 = 1.80.
FX_DEC25 = 7.0
CN_DEC25 = 606_500 / 1.13 / FX_DEC25
F_NDPR_VS_CN = round(138_000 / CN_DEC25, 2)    # 1.80
F_NDPR = round(F_NDPR_VS_CN / EXCN, 2)
# Magnets outside China: pass-through of those input prices into an ex-China magnet at the PH
# price level (49,200 + 10,000): the RE content rises by
#   0.3633 x 65,000 x (1.80 - 1.076) + 0.0226 x 458,100 x (3.4 - 1.076)  (from ex-China
# baseline prices to ex-China retaliation prices)
MAG_PASS = (NDPR_PER_MAGNET * NDPR_METAL * (F_NDPR_VS_CN - EXCN)
            + DYTB_PER_MAGNET * DYTB_METAL * (F_DYTB_VS_CN - EXCN))
F_MAGNET = round(1 + MAG_PASS / (MAGNET_CN + MAG_PREMIUM_LOW), 2)
# China's cut: capacity_factor = half of China's baseline tonnage / China's capacity (= 2 x the
# baseline tonnage, see offers) -> 0.25
F_CUT = 0.25


# ----------------------------------------------------------------------------------------
# Over time (SPEC §3a, §5a): periods 2025-2030, demand path, capacity pipeline, strategic stock
# ----------------------------------------------------------------------------------------
YEARS = tuple(range(2025, 2031))
FIRST_YEAR = YEARS[0]
# Real discount rate: Korea's social discount rate for public investment, 4.5 % (MOEF's
# preliminary-feasibility (예타) reform of 11 Aug 2017, cut from 5.5 %; the rate KDI's PIMAC
# applies in its preliminary feasibility studies; Newsis / Hankyoreh 2017-08-11).  Applied to
# the dataset's constant 2024 prices, so read as a real rate.  factor = (1 + r)^-(year - 2025).
DISCOUNT_RATE = 0.045


def discount_factor(year: int) -> float:
    """(1 + r)^-(year - 2025), rounded to 4 decimals."""
    return round((1 + DISCOUNT_RATE) ** -(year - FIRST_YEAR), 4)


# Demand growth.  Adamas Intelligence, "Rare Earth Magnet Market Outlook to 2040" (Q3 2024):
# global NdFeB magnet demand +8.7 %/yr (CAGR) 2024-2040, "translating to comparable demand
# growth for the critical rare earth elements (didymium, dysprosium and terbium)".  Cross-checks:
# IEA GCMO 2024, magnet-REE demand 93 kt (2023) -> 131 kt (2030, APS) = +5.0 %/yr [D]; KITA,
# magnet demand 119,200 t (2020) -> 387,000 t (2030) = +12.5 %/yr [D] (F §5c, F2 §5).  Korea-
# specific forecasts: [NF].  ASSUMPTION: Korea's demand grows with world demand, at every NdPr and
# Dy/Tb stage (they are magnet feed: the stages' demand is set from the magnet recipe, §3).
MAGNET_GROWTH = 0.087
GROWTH_CHECKS = {"IEA APS 2023-2030": (131 / 93) ** (1 / 7) - 1,
                 "KITA 2020-2030": (387_000 / 119_200) ** (1 / 10) - 1}
GROWTH_STAGES = ("ndpr-oxide", "ndpr-metal", "dytb-oxide", "dytb-metal", "magnet")
# Ce/La (catalysts, polishing, glass, NiMH): no sourced forecast ([NF]); flat (ASSUMPTION).


def demand_factor(year: int) -> float:
    """Demand relative to 2025 at the magnet-feed stages: 1.087^(year - 2025)."""
    return round((1 + MAGNET_GROWTH) ** (year - FIRST_YEAR), 4)


# Korea's share of new capacity outside Korea: ASSUMPTION 11 %, Korea's share of China's magnet
# exports in 2023 (F2 §2a [D]: 11.3 %, rounded as in §3) -- Korea's weight as a buyer in the
# traded magnet market, carried over to new ex-China plants whose output is not tied up.
KOREA_SHARE = 0.11
# AUD/USD from a same-day conversion in the press: US$288 M = A$443 M (DoD grant to Lynas,
# theozpost.com, Nov 2025) -> 0.650 [D].  KRW/USD: KRW 300 bn = US$220 M (just-auto) [D].
AUD_USD = round(288 / 443, 3)
# KSM Metals (ASM): A$55 M raised to double the Korean Metals Plant's NdFeB alloy capacity to
# 3,600 t/yr (+1,800 t), commissioning late 2026 (ASM FY2025 report, via rareearthexchanges.com
# p=14289).  NdPr content of alloy 0.31 (F §6, as in §5 (b)).
KSM_PHASE2_ALLOY = 1_800
KSM_PHASE2_NDPR = round(KSM_PHASE2_ALLOY * 0.31)                 # 558 t NdPr metal / yr
KSM_CAPEX_PER_T = round(55e6 * AUD_USD / KSM_PHASE2_NDPR, -2)   # USD per t/yr of NdPr metal
# POSCO International + Star Group US magnet plant: KRW 300 bn (US$220 M) for 3,000 t/yr, later
# 5,000 (just-auto; EconoTimes, Oct 2023); replaced by an MoU with ReElement (Sep 2025) for an
# integrated US complex.  No date, no final investment decision.
POSCO_US_CAPEX_PER_T = round(220e6 / 3_000, -2)                # 73,300 USD per t/yr


def rows_periods() -> list[tuple]:
    """Periods 2025..2030: id, order, years, discount factor."""
    return [(str(y), i + 1, 1, fmt(discount_factor(y))) for i, y in enumerate(YEARS)]


def rows_period_values() -> list[tuple]:
    """Per period after the first: demand growth at the magnet-feed stages, and China's capacity
    open to Korea growing with it (the 2 x baseline headroom of §4 kept, year by year).  No rows
    for 2025: the first period is the calibrated baseline."""
    rows = []
    for y in YEARS[1:]:
        f = demand_factor(y)
        for s in GROWTH_STAGES:
            rows.append((str(y), "demand_factor", s, f))
        for s in GROWTH_STAGES:
            rows.append((str(y), "capacity_factor", f"CN:{s}", f))
    return rows


def rows_stocks() -> list[tuple]:
    """Korea's strategic stock (KOMIR) at the NdPr and Dy/Tb oxide and metal stages.

    initial = 60 days of 2025 demand (Gunsan holds about 60 days of domestic demand of critical
    minerals, F3 §4 [S]); floor = initial (today's stock held in normal times); capacity = 3 x
    initial (to be tripled by 2031, F3 §4 [S]); holding 1 % of the stage's FOB value a year
    (ASSUMPTION: storage, insurance, handling; the cost of the money tied up is charged by the
    discounting itself)."""
    demand = {r["stage"]: float(r["demand_t"]) for r in rows_stages()}
    value = {r["stage"]: float(r["value_usd_per_t"] or 0) for r in rows_stages()}
    rows = []
    for s in RESERVE_STAGES:
        initial = round(demand[s] * STOCK_DAYS_TODAY / 365, 3)
        rows.append((s, fmt(initial), fmt(round(initial * STOCK_CAPACITY_MULT, 3)),
                     fmt(round(STOCK_HOLDING * value[s])), fmt(initial)))
    return rows


STOCK_DAYS_TODAY = 60          # F3 §4 [S]; MOTIE: 51 days (13 minerals), IEA: 54 days
STOCK_DAYS_TARGET = 100        # F §5d [R] (IEA policy database; MOTIE: by 2031)
STOCK_CAPACITY_MULT = 3        # "to be tripled by 2031" (F3 §4 [S])
STOCK_HOLDING = 0.01           # ASSUMPTION, share of FOB value per year


# Offers that exist only once a plant in the pipeline opens (capacity 0 today).
PIPELINE_OFFERS = (
    # offer, stage, supplier, country, price
    ("US-MAGNET-EVAC", "magnet", "e-VAC Magnetics (VAC; Sumter, South Carolina)", "US",
     MAGNET_CN + MAG_PREMIUM_HIGH),
    ("US-MAGNET-JSLINK", "magnet", "JS Link America (Columbus, Georgia; announced)", "US",
     MAGNET_CN + MAG_PREMIUM_HIGH),
    ("US-MAGNET-POSCO", "magnet", "POSCO International (US magnet plant; MoU, no site)", "US",
     MAGNET_CN + MAG_PREMIUM_HIGH),
)


def rows_expansions() -> list[tuple]:
    """The capacity pipeline outside China, dated: (expansion, target, usd_per_t_yr, max_t_yr,
    lead_periods, from_period).  max_t_yr is the part open to Korea; usd_per_t_yr is 0 where the
    plant is financed by its owner and a contract is enough, the capital cost per t/yr where the
    project still needs the money (then the buyer funds what it secures)."""
    k = KOREA_SHARE
    return [
        # Neo Narva phase 2: 2,000 -> 5,000 t/yr; expansion to begin in 2027 (company, Sep 2025,
        # via newsbytesapp; Argus 2465359).  Usable from 2028 (ASSUMPTION: a year to build).
        ("neo-narva-phase2", "EE-MAGNET-NEO", 0, round(k * 3_000), 1, "2027"),
        # e-VAC Sumter: 2,000 t/yr by 2026 (company release via REEx); first magnets shipped;
        # operational "late fall 2025" (Fastmarkets 2023-12).  GM is the anchor customer.
        ("evac-sumter", "US-MAGNET-EVAC", 0, round(k * 2_000), 0, "2026"),
        # JS Link America, Columbus GA: 3,000 t/yr, commercial production late 2027 (company
        # announcement, Project Blue, Sep 2025) -> usable from 2028.
        ("jslink-georgia", "US-MAGNET-JSLINK", 0, round(k * 3_000), 0, "2028"),
        # Lynas + JS Link, Kuantan: 3,000 t/yr (MoU Jul 2025; land bought, investment confirmed:
        # Malaysia's PM, Oct 2025).  Start date [NF]: ASSUMPTION 2028, with JS Link's Georgia
        # plant (late 2027) as the yardstick.
        ("jslink-malaysia", "MY-MAGNET-JSLINK", 0, round(k * 3_000), 0, "2028"),
        # POSCO International US plant: 3,000 t/yr first phase, KRW 300 bn; no date or FID:
        # ASSUMPTION at the earliest 2029 (decided from 2026, 3 years to build: MP's Fort Worth
        # plant took Apr 2022 -> late 2025).  Not yet financed: the buyer pays the capital cost.
        ("posco-us", "US-MAGNET-POSCO", POSCO_US_CAPEX_PER_T, round(k * 3_000), 3, "2026"),
        # Lynas Malaysia new heavy-RE plant: 5,000 t/yr of feed, ~5 % Dy and ~1 % Tb
        # (rawmaterials.net, Oct 2025) -> ~300 t/yr Dy+Tb oxide [D]; "initial suite of separated
        # HREs within two years" (Lynas, Oct 2025) -> usable from 2028.  Self-funded.
        ("lynas-hre-malaysia", "MY-DYTB-LYNAS", 0, round(k * 5_000 * 0.06), 0, "2028"),
        # Solvay La Rochelle: several hundred t in 2025 -> ~4,500 t/yr by 2030 (company target,
        # 24brussels / De Tijd, Apr 2025), conditional on customer commitments.  2030 only.
        ("solvay-2030", "FR-NDPR-SOLVAY", 0, round(k * (4_500 - 500)), 0, "2030"),
        # KSM Metals phase 2 (Ochang, Korea): +1,800 t/yr NdFeB alloy = 558 t NdPr, late 2026,
        # fully funded (A$55 M raise).  In Korea: all of it open.  Usable from 2027.
        ("ksm-alloy-phase2", "KR-KSM-ALLOY-LINE", 0, KSM_PHASE2_NDPR, 0, "2027"),
        # KSM's planned 72 t/yr Dy line (Argus 2211866, F3 §6): no date, no funding [NF].
        # ASSUMPTION: at the earliest 2028 (decided from 2026, lead 2); capital cost per t/yr as
        # ASM's phase 2 per t of NdPr metal.
        ("ksm-dy-line", "KR-KSM-DYTB-METAL", KSM_CAPEX_PER_T, 72, 2, "2026"),
        # JS Link, Yesan (Korea): 1,000 t/yr sintered NdFeB, pilot-scale production commissioned
        # 2025 (Project Blue, Sep 2025) -> usable from 2026.
        ("jslink-yesan", "KR-JSLINK-MAGNET", 0, 1_000, 0, "2026"),
    ]


def rows_offers(calib: dict[str, float]) -> list[dict]:
    """Offers.  `calib` holds the calibration settings (min_t) and China's capacities."""
    rows = []

    def add(offer, stage, supplier, country, price, cap, min_t=0, members_only=False):
        rows.append(dict(offer=offer, stage=stage, supplier=supplier, country=country,
                         price_usd_per_t=int(round(price)),
                         capacity_t="" if cap is None else fmt(cap),
                         min_t=fmt(min_t), freight_usd_per_t=FREIGHT[country],
                         members_only="true" if members_only else "false"))

    c = calib
    # concentrate (t REO contained) -- China exports none (F3 §2): no Chinese offer
    add("US-CONC-MP", "concentrate", "MP Materials (Mountain Pass bastnaesite concentrate)", "US",
        CONCENTRATE, 2500)
    # NdPr oxide
    add("CN-NDPR-OXIDE", "ndpr-oxide", "Chinese separators (NdPr oxide; FOB China)", "CN",
        NDPR_OXIDE, c["cap_CN_ndpr-oxide"])
    add("MY-NDPR-LYNAS", "ndpr-oxide", "Lynas Malaysia (Kuantan; NdPr oxide)", "MY",
        NDPR_OXIDE * EXCN, 300, c.get("min_MY-NDPR-LYNAS", 0))
    add("US-NDPR-MP", "ndpr-oxide", "MP Materials (Mountain Pass; NdPr oxide)", "US",
        NDPR_OXIDE * EXCN, 100, 30)
    add("VN-NDPR-OXIDE", "ndpr-oxide", "Vietnamese separator (KSM Metals' oxide feed)", "VN",
        NDPR_OXIDE * EXCN, 100, round(KSM_METAL_CAP / METAL_YIELD))
    add("FR-NDPR-SOLVAY", "ndpr-oxide", "Solvay (La Rochelle; NdPr oxide)", "FR",
        NDPR_OXIDE * EXCN, 50)
    add("EE-NDPR-NEO", "ndpr-oxide", "Neo Performance Materials (Silmet; Sillamae)", "EE",
        NDPR_OXIDE * EXCN, 100)
    add("JP-NDPR-OXIDE", "ndpr-oxide", "Japanese rare-earth compound processors (NdPr)", "JP",
        NDPR_OXIDE * JP_MARGIN, 100)
    # Dy/Tb oxide
    add("CN-DYTB-OXIDE", "dytb-oxide", "Chinese separators (Dy/Tb oxide; FOB China)", "CN",
        DYTB_OXIDE, c["cap_CN_dytb-oxide"])
    add("MY-DYTB-LYNAS", "dytb-oxide", "Lynas Malaysia (Kuantan; first ex-China Dy/Tb 2025)",
        "MY", DYTB_OXIDE * EXCN, 1)
    add("JP-DYTB-OXIDE", "dytb-oxide", "Japanese rare-earth compound processors (Dy/Tb)", "JP",
        DYTB_OXIDE * JP_MARGIN, 0.5)
    # Ce/La oxide
    add("CN-CELA-OXIDE", "cela-oxide", "Chinese separators (Ce/La oxides and compounds)", "CN",
        CELA_OXIDE, c["cap_CN_cela-oxide"])
    add("FR-CELA-SOLVAY", "cela-oxide", "Solvay (La Rochelle; Ce/La compounds)", "FR",
        CELA_OXIDE * EXCN, 500, c["min_FR-CELA-SOLVAY"])
    add("EE-CELA-NEO", "cela-oxide", "Neo Performance Materials (Silmet; Ce/La)", "EE",
        CELA_OXIDE * EXCN, 300, c["min_EE-CELA-NEO"])
    add("JP-CELA-OXIDE", "cela-oxide", "Japanese rare-earth compound processors (Ce/La)", "JP",
        CELA_OXIDE * JP_MARGIN, 600, c["min_JP-CELA-OXIDE"])
    # NdPr metal
    add("CN-NDPR-METAL", "ndpr-metal", "Chinese NdPr metal makers (Pr-Nd alloy; FOB China)", "CN",
        NDPR_METAL, c["cap_CN_ndpr-metal"])
    add("JP-NDPR-METAL", "ndpr-metal", "Japanese rare-earth metal and alloy makers", "JP",
        NDPR_METAL * JP_MARGIN, 50, c["min_JP-NDPR-METAL"])
    add("VN-NDPR-METAL", "ndpr-metal", "Vietnamese rare-earth metal makers", "VN",
        NDPR_METAL * EXCN, 50, c["min_VN-NDPR-METAL"])
    add("US-NDPR-METAL-MP", "ndpr-metal", "MP Materials (Independence; metal used in-house)", "US",
        NDPR_METAL * EXCN, 0)
    # Dy/Tb metal
    add("CN-DYTB-METAL", "dytb-metal", "Chinese Dy/Tb metal and DyFe makers (FOB China)", "CN",
        DYTB_METAL, c["cap_CN_dytb-metal"])
    add("JP-DYTB-METAL", "dytb-metal", "Japanese rare-earth metal makers (Dy/Tb)", "JP",
        DYTB_METAL * JP_MARGIN, 0.5)
    # magnets
    add("CN-MAGNET", "magnet", "Chinese NdFeB exporters (2024 export unit value)", "CN",
        MAGNET_CN, c["cap_CN_magnet"])
    add("PH-MAGNET", "magnet", "Japanese-owned NdFeB plants in the Philippines", "PH",
        MAGNET_CN + MAG_PREMIUM_LOW, 900, c["min_PH-MAGNET"])
    add("VN-MAGNET-SGI", "magnet", "Star Group SGI Vina (Chu Lai; Quang Nam)", "VN",
        MAGNET_CN * (1 + VN_BUYER_PREMIUM), 1500)
    add("VN-MAGNET-SHINETSU", "magnet", "Shin-Etsu Chemical (Vietnam plant)", "VN",
        MAGNET_CN + MAG_PREMIUM_LOW, 200)
    add("JP-MAGNET", "magnet", "Japanese NdFeB makers (TDK; Proterial; Shin-Etsu)", "JP",
        MAGNET_CN + MAG_PREMIUM_MID, 400, c["min_JP-MAGNET"])
    add("EE-MAGNET-NEO", "magnet", "Neo Performance Materials (Narva magnet plant)", "EE",
        MAGNET_CN + MAG_PREMIUM_MID, 200)
    add("US-MAGNET-MP", "magnet", "MP Materials (Independence; Fort Worth)", "US",
        MAGNET_CN + MAG_PREMIUM_HIGH, 100)
    add("MY-MAGNET-JSLINK", "magnet", "Lynas + JS Link magnet plant (MoU; not built)", "MY",
        MAGNET_CN + MAG_PREMIUM_LOW, 0)
    # plants in the pipeline (closed today; opened by rows_expansions)
    for offer, stage, supplier, country, price in PIPELINE_OFFERS:
        add(offer, stage, supplier, country, price, 0)
    # Project Vault's release offers (members_only; closed in normal times by their price, each
    # disruption's rows bring it to the release price: see "Under disruption" below, SOURCES §15)
    for offer, stage, _, tonnes in VAULT_OFFERS:
        add(offer, stage, "Project Vault (US strategic reserve; release)", "US",
            VAULT_IDLE_PRICE, tonnes, members_only=True)
    return rows


def fmt(x: float) -> str:
    """A number as the CSVs write it: whole numbers without a decimal point, blank for blank."""
    if x == "" or x is None:
        return ""
    x = float(x)
    return str(int(x)) if x == int(x) else f"{x:g}"


def rows_stages() -> list[dict]:
    """Stages: order, demand, material, value of lost supply and value per tonne."""
    rows = []

    def add(stage, order, demand, material, shortage=None, value=None):
        rows.append(dict(stage=stage, order=order, demand_t=fmt(demand), material=material,
                         shortage_usd_per_t="" if shortage is None else fmt(shortage),
                         value_usd_per_t="" if value is None else fmt(value)))

    add("concentrate", 0, 0, "mixed", None, None)
    add("ndpr-oxide", 1, NDPR_OXIDE_DEMAND, "NdPr", None, NDPR_OXIDE)
    add("dytb-oxide", 1, DYTB_OXIDE_DEMAND, "DyTb", SHORT_DYTB_OXIDE, DYTB_OXIDE)
    add("cela-oxide", 1, CELA_OXIDE_DEMAND, "CeLa", None, CELA_OXIDE)
    add("ndpr-metal", 2, NDPR_METAL_DEMAND, "NdPr", None, NDPR_METAL)
    add("dytb-metal", 2, DYTB_METAL_DEMAND, "DyTb", SHORT_DYTB_METAL, DYTB_METAL)
    add("magnet", 3, MAGNET_DEMAND, "NdFeB", SHORT_MAGNET, MAGNET_CN)
    return rows


def rows_processes() -> tuple[list[dict], list[dict]]:
    """Korean processes and their process_flows (separation co-products, the magnet recipe)."""
    processes = [
        dict(process="KR-SEPARATION", from_stage="concentrate", to_stage="ndpr-oxide",
             **{"yield": SEP_YIELD}, cost_usd_per_t=fmt(SEP_COST), capacity_t=0),
        dict(process="KR-KSM-METAL", from_stage="ndpr-oxide", to_stage="ndpr-metal",
             **{"yield": METAL_YIELD}, cost_usd_per_t=KR_METAL_COST, capacity_t=KSM_METAL_CAP),
        dict(process="KR-SEONGAN-METAL", from_stage="ndpr-oxide", to_stage="ndpr-metal",
             **{"yield": METAL_YIELD}, cost_usd_per_t=KR_METAL_COST, capacity_t=SEONGAN_METAL_CAP),
        dict(process="KR-KSM-ALLOY-LINE", from_stage="ndpr-oxide", to_stage="ndpr-metal",
             **{"yield": METAL_YIELD}, cost_usd_per_t=KR_METAL_COST, capacity_t=0),
        dict(process="KR-KSM-DYTB-METAL", from_stage="dytb-oxide", to_stage="dytb-metal",
             **{"yield": METAL_YIELD}, cost_usd_per_t=KR_METAL_COST, capacity_t=0),
        dict(process="KR-STARGROUP-MAGNET", from_stage="ndpr-metal", to_stage="magnet",
             **{"yield": round(1 / NDPR_PER_MAGNET, 4)}, cost_usd_per_t=fmt(MAGNET_CONVERSION),
             capacity_t=1000),
        # JS Link's Yesan plant: the same recipe and cost (ASSUMPTION); closed in 2025, opened by
        # the `jslink-yesan` expansion from 2026
        dict(process="KR-JSLINK-MAGNET", from_stage="ndpr-metal", to_stage="magnet",
             **{"yield": round(1 / NDPR_PER_MAGNET, 4)}, cost_usd_per_t=fmt(MAGNET_CONVERSION),
             capacity_t=0),
    ]
    flows = [
        dict(process="KR-SEPARATION", stage="dytb-oxide", role="output", t_per_t=SEP_DYTB),
        dict(process="KR-SEPARATION", stage="cela-oxide", role="output", t_per_t=SEP_CELA),
        dict(process="KR-STARGROUP-MAGNET", stage="dytb-metal", role="input",
             t_per_t=DYTB_PER_MAGNET),
        dict(process="KR-JSLINK-MAGNET", stage="dytb-metal", role="input",
             t_per_t=DYTB_PER_MAGNET),
    ]
    return processes, flows


COUNTRIES = [
    ("KR", "Republic of Korea", True, "msp;forge"),
    ("CN", "China", False, "feoc"),
    ("AU", "Australia", True, "msp;forge;ex-cn"),
    ("MY", "Malaysia", False, "asean;forge;ex-cn"),
    ("JP", "Japan", True, "msp;forge;ex-cn"),
    ("FR", "France", True, "msp;forge;eu;ex-cn"),
    ("EE", "Estonia", True, "msp;forge;eu;ex-cn"),
    ("US", "United States", True, "msp;forge;ex-cn"),
    ("VN", "Viet Nam", False, "asean;ex-cn"),
    ("PH", "Philippines", False, "asean;forge;ex-cn"),
]

CONTENT = [
    # offer, origin, share
    ("MY-NDPR-LYNAS", "AU", 1), ("MY-DYTB-LYNAS", "AU", 1),
    ("VN-NDPR-OXIDE", "VN", 0.5), ("VN-NDPR-OXIDE", "CN", 0.5),
    ("FR-NDPR-SOLVAY", "US", 0.8), ("FR-NDPR-SOLVAY", "AU", 0.2),
    ("EE-NDPR-NEO", "US", 0.8), ("EE-NDPR-NEO", "AU", 0.2),
    ("JP-NDPR-OXIDE", "CN", 0.7), ("JP-NDPR-OXIDE", "AU", 0.3),
    ("JP-DYTB-OXIDE", "CN", 0.9), ("JP-DYTB-OXIDE", "AU", 0.1),
    ("FR-CELA-SOLVAY", "US", 0.8), ("FR-CELA-SOLVAY", "AU", 0.2),
    ("EE-CELA-NEO", "US", 0.8), ("EE-CELA-NEO", "AU", 0.2),
    ("JP-CELA-OXIDE", "CN", 0.7), ("JP-CELA-OXIDE", "AU", 0.3),
    ("JP-NDPR-METAL", "CN", 0.7), ("JP-NDPR-METAL", "AU", 0.3),
    ("VN-NDPR-METAL", "CN", 0.7), ("VN-NDPR-METAL", "AU", 0.3),
    ("JP-DYTB-METAL", "CN", 0.9), ("JP-DYTB-METAL", "AU", 0.1),
    ("PH-MAGNET", "CN", 0.7), ("PH-MAGNET", "AU", 0.3),
    ("VN-MAGNET-SHINETSU", "CN", 0.7), ("VN-MAGNET-SHINETSU", "AU", 0.3),
    ("JP-MAGNET", "CN", 0.7), ("JP-MAGNET", "AU", 0.3),
    ("VN-MAGNET-SGI", "CN", 0.06), ("VN-MAGNET-SGI", "US", 0.75), ("VN-MAGNET-SGI", "AU", 0.19),
    ("EE-MAGNET-NEO", "US", 0.8), ("EE-MAGNET-NEO", "AU", 0.2),
]

OXIDES = ("ndpr-oxide", "dytb-oxide", "cela-oxide")
METALS = ("ndpr-metal", "dytb-metal")
CUT_STAGES = OXIDES + METALS + ("magnet",)
PRICE_UP = (("ndpr-oxide", F_NDPR), ("ndpr-metal", F_NDPR), ("dytb-oxide", F_DYTB),
            ("dytb-metal", F_DYTB), ("magnet", F_MAGNET))
RESERVE_STAGES = ("ndpr-oxide", "ndpr-metal", "dytb-oxide", "dytb-metal")
WIDER_ZONE = ("MY", "PH")                        # countries the `wider-zone` scenario adds


def rows_scenarios() -> list[tuple]:
    """Scenario rows (scenario, setting, target, value), in the order they are applied."""
    rows: list[tuple] = []

    def cut(name):
        for s in CUT_STAGES:
            rows.append((name, "capacity_factor", f"CN:{s}", F_CUT))

    def prices_up(name):
        for s, f in PRICE_UP:
            rows.append((name, "price_factor", f"ex-cn:{s}", f))

    rows.append(("observer", "zone", "", "observer"))
    rows.append(("joined", "zone", "", "joined"))
    rows.append(("joined-retaliation", "zone", "", "joined"))
    cut("joined-retaliation")
    prices_up("joined-retaliation")
    rows.append(("retaliation-observer", "zone", "", "observer"))
    cut("retaliation-observer")
    prices_up("retaliation-observer")
    # Korea's target: no country above 50 % of any stage by 2030 (MOTIE 2023, F §5d [R]) -- a
    # trajectory (scenarios.period): none in 2025, then a straight line from 90 % in 2026 to
    # 50 % in 2030 (ASSUMPTION: MOTIE sets only the end point).  `target-2028` reaches 50 % two
    # years earlier (80 %, 65 %, then 50 %), to price the two years.  The 2030 (last) row is 0.5,
    # so a version that ignores `period` applies 0.5 everywhere, as before.
    for y, cap in TARGET_2030.items():
        rows.append(("target-2030", "max_share", "each:*", cap, y))
    for y, cap in TARGET_2028.items():
        rows.append(("target-2028", "max_share", "each:*", cap, y))
    rows.append(("joined-2030", "zone", "", "joined"))
    for y, cap in TARGET_2030.items():
        rows.append(("joined-2030", "max_share", "each:*", cap, y))
    rows.append(("cn-magnet-60", "max_share", "CN:magnet", 0.6))
    rows.append(("joined-low-floor", "zone", "", "joined"))
    rows.append(("joined-low-floor", "benchmark", "ndpr-oxide", LOW_NDPR_OXIDE))
    rows.append(("joined-low-floor", "benchmark", "ndpr-metal", LOW_NDPR_METAL))
    rows.append(("joined-low-floor", "benchmark", "magnet", LOW_MAGNET))
    # a stop of Chinese Dy/Tb exports (the April 2025 licences at their tightest: Star Group got
    # 2.5 % of its heavy-RE needs in five months, F §5c) with the Dy/Tb price rise
    rows.append(("dytb-stop", "zone", "", "observer"))
    rows.append(("dytb-stop", "capacity_factor", "CN:dytb-oxide", 0))
    rows.append(("dytb-stop", "capacity_factor", "CN:dytb-metal", 0))
    rows.append(("dytb-stop", "price_factor", "ex-cn:dytb-oxide", F_DYTB))
    rows.append(("dytb-stop", "price_factor", "ex-cn:dytb-metal", F_DYTB))
    # KOMIR's 100-day target (F §5d [R]) reached by 2030: the reserve floor of every stock
    # rises in a straight line from today's 60 days (ASSUMPTION: no dated path is published;
    # the Gunsan/Saemangeum capacity, 3x today's holding, holds 100 days of 2030 demand)
    for y, days in RESERVE_100_DAYS.items():
        rows.append(("reserve-100-days", "stock_floor_days", "*", days, y))
    rows.append(("eu-style-65", "embedded_max_share", "each:*", 0.65))
    rows.append(("joined-eu-style-65", "zone", "", "joined"))
    rows.append(("joined-eu-style-65", "embedded_max_share", "each:*", 0.65))
    # Malaysia and the Philippines in the zone (US-Malaysia MOU of 26 Oct 2025, F3 §5; the
    # Philippines' US framework, Feb 2026, F §7d), Korea joined
    rows.append(("wider-zone", "zone", "", "joined"))
    for country in WIDER_ZONE:
        rows.append(("wider-zone", "zone_member", country, "true"))
    # Korea observes in 2025-2026 and joins the zone from 2027 (a what-if: no date is sourced)
    for y in YEARS[2:]:
        rows.append(("joined-2027", "zone", "", "joined", str(y)))
    return rows


RESERVE_100_DAYS = {"2026": 68, "2027": 76, "2028": 84, "2029": 92, "2030": 100}
TARGET_2030 = {"2026": 0.9, "2027": 0.8, "2028": 0.7, "2029": 0.6, "2030": 0.5}
TARGET_2028 = {"2026": 0.8, "2027": 0.65, "2028": 0.5, "2029": 0.5, "2030": 0.5}


def write(name: str, header: list[str], rows: list) -> None:
    """Write one table, ``name``.csv, into the dataset folder."""
    with open(OUT / f"{name}.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([r[h] for h in header] if isinstance(r, dict) else list(r))


def write_all(calib: dict[str, float]) -> None:
    """Write every table of the dataset with the calibration settings ``calib``."""
    write("stages", ["stage", "order", "demand_t", "material", "shortage_usd_per_t",
                     "value_usd_per_t"], rows_stages())
    write("offers", ["offer", "stage", "supplier", "country", "price_usd_per_t", "capacity_t",
                     "min_t", "freight_usd_per_t", "members_only"], rows_offers(calib))
    write("countries", ["country", "name", "zone_member", "groups"],
          [(c, n, "true" if z else "false", g) for c, n, z, g in COUNTRIES])
    processes, flows = rows_processes()
    write("processes", ["process", "from_stage", "to_stage", "yield", "cost_usd_per_t",
                        "capacity_t"], processes)
    write("process_flows", ["process", "stage", "role", "t_per_t"], flows)
    write("tariffs", ["country", "stage", "mfn_rate", "zone_rate"], [("*", "*", MFN, 0)])
    write("benchmarks", ["stage", "benchmark_usd_per_t"],
          [("ndpr-oxide", BENCH_NDPR_OXIDE), ("ndpr-metal", fmt(BENCH_NDPR_METAL)),
           ("magnet", fmt(BENCH_MAGNET))])
    write("limits", ["group", "stage", "min_share", "max_share", "basis", "scope"], [])
    write("content", ["offer", "origin", "share"], CONTENT)
    write("settings", ["key", "value"], [("buyer", "KR"), ("zone", "observer"),
                                         ("name", NAME)])
    write("scenarios", ["scenario", "setting", "target", "value", "period"],
          [(r[0], r[1], r[2], fmt(r[3]) if isinstance(r[3], (int, float)) else r[3],
            r[4] if len(r) > 4 else "") for r in rows_scenarios()])
    write("periods", ["period", "order", "years", "discount_factor"], rows_periods())
    write("period_values", ["period", "setting", "target", "value"],
          [(a, b, c, fmt(d)) for a, b, c, d in rows_period_values()])
    write("stocks", ["stage", "initial_t", "capacity_t", "holding_usd_per_t_yr", "min_t"],
          rows_stocks())
    write("expansions", ["expansion", "target", "usd_per_t_yr", "max_t_yr", "lead_periods",
                         "from_period"],
          [(e, t, fmt(c), fmt(m), lead, frm) for e, t, c, m, lead, frm in rows_expansions()])
    write("disruptions", ["disruption", "probability", "period", "duration", "setting", "target",
                          "value"], rows_disruptions())


# ----------------------------------------------------------------------------------------
# Under disruption (SPEC §3b, issue 12 point 5): the `disruptions` table and Project Vault.
# Two disruptions, each a one-year branch that may start in any year 2026-2030, and Project
# Vault's Dy/Tb release offers (in offers.csv, members_only).  SOURCES.md §15.
# ----------------------------------------------------------------------------------------
# Probabilities.  One rule for both disruptions: the rate of episodes x the share of a year an
# episode lasted = the yearly probability of a FULL-YEAR equivalent (the model's periods are one
# year; a branch with capacity 0 for a year loses the same tonnage as an episode of that length).
#  Episodes in which China cut rare-earth supply to trading partners as leverage, 2010-2025: the
#  2010 embargo on Japan and the April 2025 licences (MOFCOM No. 18, F §4b) -> 2 in 16 years.
EPISODES_PER_YEAR = 2 / 16                       # 0.125 [D]
#  (a) Dy/Tb: Star Group got 2.5 % of its heavy-RE needs in the five months after April 2025
#      (F §5c [R]) -> 5 months.  0.125 x 5/12 = 0.052 -> 5 % a year.
#  (b) magnets: China's magnet exports fell 51 % m/m in April 2025 and 74 % y/y in May (1,238 t),
#      back to 3,188 t in June (F §4b [R]; Automotive World / WSJ 2025-06-20) -> about 2 months
#      at half or less.  0.125 x 2/12 = 0.021 -> 2 % a year.
HAZARD_DYTB = round(EPISODES_PER_YEAR * 5 / 12, 2)      # 0.05 per year
HAZARD_MAGNET = round(EPISODES_PER_YEAR * 2 / 12, 2)    # 0.02 per year
# Start years: 2026-2030 (2025 is the calibrated baseline and the year the 2025 episode is
# observed in).  Branch "first onset in year k" (branches are exclusive, SPEC §3b):
# pi_k = h (1 - h)^(k - 2026); over the horizon sum_k pi_k = 1 - (1 - h)^5.
DISRUPTION_STARTS = YEARS[1:]
DISRUPTION_DURATION = 1                          # one period (a year): the model's shortest
# Project Vault (F §8 [R]: ~USD 12 bn = up to 10 bn EXIM loan + ~1.67-2 bn private; the
# "1.2 bn" of the article is a decimal slip, F §0).  Forms and tonnages held: [NF].
#  Stages: Dy/Tb oxide and metal (the elements China licenses; no other US offer at these stages,
#  so a `price_factor US:dytb-*` row reaches the Vault alone -- a Vault magnet offer could not be
#  told apart from MP's, e-VAC's, JS Link's and POSCO's US magnets).
#  Tonnage: the Vault's buffer target is "60 days" of emergency supply (F §8 [S]) -> 60 days of
#  Korea's Dy/Tb need: metal = final demand 3 t + the feed of Korea's magnet plants at 2026
#  capacity (Star Group 1,000 t + JS Link Yesan 1,000 t) x 0.0226; oxide = final demand 3 t.
VAULT_DAYS = 60
VAULT_DYTB_METAL_T = round((DYTB_METAL_DEMAND + 2_000 * DYTB_PER_MAGNET) * VAULT_DAYS / 365, 1)
VAULT_DYTB_OXIDE_T = round(DYTB_OXIDE_DEMAND * VAULT_DAYS / 365, 2)
#  Price: the Vault's buyers "pay upfront fees to lock fixed prices plus carrying costs" (F §8
#  [R]).  Bought outside China from 2026, at the ex-China Dy/Tb level of 2025 (3.4 x China, §11)
#  -> 3.4 x 370,000 = 1,258,000 $/t oxide, metal x 1.238; carrying cost ASSUMPTION 2 years (bought
#  2026, drawn on average mid-horizon) x (4.5 % discount rate + 1 % holding) = 11 %.
VAULT_CARRY = round(2 * (DISCOUNT_RATE + STOCK_HOLDING), 3)               # 0.11
VAULT_DYTB_OXIDE = round(F_DYTB_VS_CN * DYTB_OXIDE * (1 + VAULT_CARRY), -2)
VAULT_DYTB_METAL = round(F_DYTB_VS_CN * DYTB_METAL * (1 + VAULT_CARRY), -2)
#  Outside a disruption the Vault does not release (a reserve).  The product has no per-offer
#  switch, so the offers carry a normal-times price no plan pays: ten times the magnets a tonne of
#  Dy/Tb makes possible, 10 x SHORT_MAGNET / 0.0226 = 130.6 M $/t.  Tested lower: at 2 x the
#  Dy/Tb stages' own value of lost supply, joined-2030 and joined-eu-style-65 bought from the
#  Vault in normal years to make magnets; at 2 x SHORT_MAGNET / 0.0226 (26.1 M), joined-eu-style-65
#  still did (US-origin Dy/Tb also loosens the embedded 65 % cap, a leverage of ~2.9).  Each
#  disruption's rows bring the price down to the release price while it lasts.  Members only:
#  open only once Korea has joined the zone.
VAULT_IDLE_PRICE = round(10 * SHORT_MAGNET / DYTB_PER_MAGNET, -5)         # 130.6 M $/t
VAULT_OFFERS = (("US-VAULT-DYTB-OXIDE", "dytb-oxide", VAULT_DYTB_OXIDE, VAULT_DYTB_OXIDE_T),
                ("US-VAULT-DYTB-METAL", "dytb-metal", VAULT_DYTB_METAL, VAULT_DYTB_METAL_T))
VAULT_FROM = "2027"    # ASSUMPTION: announced Feb 2026 (F §8); a year to buy the stock


def rows_disruptions() -> list[tuple]:
    """(disruption, probability, period, duration, setting, target, value), in table order;
    the branches' probabilities add up to at most 1 (SPEC §3b)."""
    rows = []
    kinds = (
        # (a) China stops Dy/Tb exports (the April 2025 licences at their tightest) -- the
        #     `dytb-stop` scenario's rows: capacity 0, ex-China Dy/Tb at 3.4 x China.
        ("cn-dytb-stop", HAZARD_DYTB,
         [("capacity_factor", "CN:dytb-oxide", 0), ("capacity_factor", "CN:dytb-metal", 0),
          ("price_factor", "ex-cn:dytb-oxide", F_DYTB),
          ("price_factor", "ex-cn:dytb-metal", F_DYTB)],
         F_DYTB),
        # (b) China halves its magnet exports to Korea -- `joined-retaliation`'s magnet rows:
        #     capacity_factor 0.25 (of China's 2 x need: half the year's need), ex-China magnets
        #     x 1.70 (pass-through of the 2025 ex-China NdPr and Dy/Tb prices, §11).
        ("cn-magnet-half", HAZARD_MAGNET,
         [("capacity_factor", "CN:magnet", F_CUT), ("price_factor", "ex-cn:magnet", F_MAGNET)],
         1.0),
    )
    for name, h, settings, dytb_factor in kinds:
        for i, y in enumerate(DISRUPTION_STARTS):
            d, p = f"{name}-{y}", round(h * (1 - h) ** i, 4)
            body = list(settings)
            if str(y) >= VAULT_FROM:
                # the Vault's release price: undo the normal-times price and any ex-cn factor
                # already applied to it (US is in ex-cn), in row order
                for _, s, price, _ in VAULT_OFFERS:
                    body.append(("price_factor", f"US:{s}",
                                 round(price / (VAULT_IDLE_PRICE * dytb_factor), 8)))
            rows += [(d, p, str(y), DISRUPTION_DURATION, s, t, fmt(v)) for s, t, v in body]
    first = {}
    for r in rows:
        first.setdefault(r[0], r[1])
    assert sum(first.values()) <= 1, "probabilities add up to more than 1"
    return rows


def derived() -> dict[str, float]:
    """The derived figures ([D]) that SOURCES.md quotes, for printing."""
    return dict(METAL_RATIO=METAL_RATIO, DYTB_OXIDE=DYTB_OXIDE, DYTB_METAL=DYTB_METAL,
                NDPR_PER_MAGNET=NDPR_PER_MAGNET, DYTB_PER_MAGNET=DYTB_PER_MAGNET,
                MAGNET_CONVERSION=MAGNET_CONVERSION, RE_CONTENT=RE_CONTENT,
                RE_SHARE=RE_CONTENT / MAGNET_CN, SEP_YIELD=SEP_YIELD, SEP_DYTB=SEP_DYTB,
                SEP_CELA=SEP_CELA, SEP_COST=SEP_COST, NDPR_METAL_IMPORTS=NDPR_METAL_IMPORTS,
                p22_ndpr=_p22_ndpr, p22_dytb=_p22_dytb, NDPR_METAL_DEMAND=NDPR_METAL_DEMAND,
                SHORT_DYTB_METAL=SHORT_DYTB_METAL, SHORT_MAGNET=SHORT_MAGNET,
                BENCH_NDPR_METAL=BENCH_NDPR_METAL, BENCH_MAGNET=BENCH_MAGNET,
                LOW_NDPR_METAL=LOW_NDPR_METAL, LOW_MAGNET=LOW_MAGNET, F_DYTB=F_DYTB,
                CN_DEC25=CN_DEC25, F_NDPR=F_NDPR, F_NDPR_VS_CN=F_NDPR_VS_CN,
                F_DYTB_VS_CN=F_DYTB_VS_CN, SEP25_CN=SEP25_CN, EXCN=EXCN, MAG_PASS=MAG_PASS,
                F_MAGNET=F_MAGNET, AUD_USD=AUD_USD, KSM_CAPEX_PER_T=KSM_CAPEX_PER_T,
                POSCO_US_CAPEX_PER_T=POSCO_US_CAPEX_PER_T,
                HAZARD_DYTB=HAZARD_DYTB, HAZARD_MAGNET=HAZARD_MAGNET,
                VAULT_DYTB_OXIDE=VAULT_DYTB_OXIDE, VAULT_DYTB_METAL=VAULT_DYTB_METAL,
                VAULT_DYTB_OXIDE_T=VAULT_DYTB_OXIDE_T, VAULT_DYTB_METAL_T=VAULT_DYTB_METAL_T,
                **{f"GROWTH {k}": v for k, v in GROWTH_CHECKS.items()},
                **{f"DF {y}": discount_factor(y) for y in YEARS},
                **{f"DEMAND_FACTOR {y}": demand_factor(y) for y in YEARS},
                CHINA_METAL_MARGIN=NDPR_METAL - NDPR_OXIDE / METAL_YIELD)


def read_calibration() -> dict:
    """The calibration settings written by calibrate.py (inputs/tools/calibration.txt)."""
    calib = {}
    for line in (Path(__file__).resolve().parent / "calibration.txt").read_text().splitlines():
        key, value = (t.strip() for t in line.split("="))
        calib[key] = None if value == "None" else float(value)
    return calib


if __name__ == "__main__":
    for k, v in derived().items():
        print(f"{k:22s} {v:,.4f}")
    write_all(read_calibration())
    print("wrote the tables to", OUT)
