"""The independent model of the Learning Citizen rules.

Written from the programme's rules (README "Assessments" and "Progress",
../shared/docs/DOMAIN.md), never from the daemon's output.  The system tests
compute every expected number with it from the same inputs they send to the
daemon, then compare.

Pure Python, no I/O.
"""

from fractions import Fraction

YEARS = range(2021, 2031)
GROUPS = ("farmer", "worker", "official", "business", "manager")
POPULATIONS = ("adult", "staff")
DIGITAL = ("none", "skilled", "proficient")
POP_FIELDS = (
    "adults", "staff",
    "families_total", "families_recognized",
    "clans_total", "clans_recognized",
    "communities_total", "communities_recognized",
    "units_total", "units_recognized",
    "members_total", "members_trained",
)
# (recognised field, its total): the recognised part may never exceed it.
POP_PAIRS = (
    ("families_recognized", "families_total"),
    ("clans_recognized", "clans_total"),
    ("communities_recognized", "communities_total"),
    ("units_recognized", "units_total"),
    ("members_trained", "members_total"),
)
INDICATORS = ("adults", "staff", "digital", "proficient", "trained",
              "families", "clans", "communities", "units")
# National targets (Decision 677 / 387): whole percents for 2025, 2030.
DEFAULT_TARGETS = {
    "adults": (40, 60),
    "staff": (60, 80),
    "digital": (70, 90),
    "proficient": (60, 80),
    "trained": (100, 100),
    "families": (70, 80),
    "clans": (65, 75),
    "communities": (65, 75),
    "units": (80, 90),
}
OUTSTANDING_SPAN = 5  # recognised this year and the four before


def score(scores):
    """(total, recognized) of a list of 10 scores: total >= 80, none < 5."""
    total = sum(scores)
    return total, (total >= 80 and min(scores) >= 5)


def ceil_div(a, b):
    return -(-a // b)


def needed(target, num, den):
    """max(0, ceil(target*den/100) - num), exact integers."""
    return max(0, ceil_div(target * den, 100) - num)


def percent_candidates(num, den):
    """Acceptable values of percent: None when den == 0, else 100*num/den
    rounded to 2 decimals.  At an exact tie (x.xx5) both neighbours are
    accepted since the contract does not say which way ties go."""
    if den == 0:
        return None
    x = Fraction(100 * num, den) * 100  # in hundredths of a percent
    lo = x.numerator // x.denominator
    frac = x - lo
    if frac == Fraction(1, 2):
        vals = {lo, lo + 1}
    elif frac > Fraction(1, 2):
        vals = {lo + 1}
    else:
        vals = {lo}
    return sorted(v / 100 for v in vals)


class Model:
    """The state of one node: its assessments and denominators.

    records: {(year, person_id): assessment dict as submitted}
    population: {year: {field: int}} (all POP_FIELDS present)
    """

    def __init__(self, targets=None):
        self.records = {}
        self.population = {}
        self.targets = dict(DEFAULT_TARGETS)
        if targets:
            for k, v in targets.items():
                self.targets[k] = tuple(v)

    def copy(self):
        m = Model(self.targets)
        m.records = {k: dict(v) for k, v in self.records.items()}
        m.population = {k: dict(v) for k, v in self.population.items()}
        return m

    # -- changes -------------------------------------------------------
    def submit(self, a):
        """Store (or replace) an assessment that the node accepted."""
        self.records[(a["year"], a["person_id"])] = dict(a)

    def withdraw(self, year, person_id):
        return self.records.pop((year, person_id), None) is not None

    def set_population(self, year, obj):
        self.population[year] = {f: int(obj.get(f, 0)) for f in POP_FIELDS}

    # -- per-record ----------------------------------------------------
    def recognized(self, year, person_id):
        a = self.records.get((year, person_id))
        return a is not None and score(a["scores"])[1]

    def outstanding(self, year, person_id):
        return all(self.recognized(y, person_id)
                   for y in range(year - OUTSTANDING_SPAN + 1, year + 1))

    def expected_record(self, year, person_id):
        """What GET /v1/assessments/{year}/{person_id} must say, or None."""
        a = self.records.get((year, person_id))
        if a is None:
            return None
        total, rec = score(a["scores"])
        out = dict(a)
        # recognition by score: eligible is recognised, no decision
        out.update(total=total, eligible=rec, recognized=rec, decision=None,
                   outstanding=self.outstanding(year, person_id))
        return out

    # -- progress ------------------------------------------------------
    def counts(self, year):
        c = {"assessed": 0, "recognized": 0, "outstanding": 0,
             "by_group": {g: {"assessed": 0, "recognized": 0} for g in GROUPS},
             "adult_recognized": 0, "staff_recognized": 0,
             "digital_skilled": 0, "digital_proficient": 0}
        for (y, pid), a in self.records.items():
            if y != year:
                continue
            _, rec = score(a["scores"])
            c["assessed"] += 1
            c["by_group"][a["group"]]["assessed"] += 1
            if not rec:
                continue
            c["recognized"] += 1
            c["by_group"][a["group"]]["recognized"] += 1
            c[a["population"] + "_recognized"] += 1
            if a["digital"] in ("skilled", "proficient"):
                c["digital_skilled"] += 1
            if a["digital"] == "proficient":
                c["digital_proficient"] += 1
            if self.outstanding(year, pid):
                c["outstanding"] += 1
        return c

    def progress(self, year):
        """Expected indicators and counts for GET /v1/progress?year=."""
        c = self.counts(year)
        pop = self.population.get(year, {f: 0 for f in POP_FIELDS})
        fractions = {
            "adults": (c["adult_recognized"], pop["adults"]),
            "staff": (c["staff_recognized"], pop["staff"]),
            "digital": (c["digital_skilled"], c["recognized"]),
            "proficient": (c["digital_proficient"], c["digital_skilled"]),
            "trained": (pop["members_trained"], pop["members_total"]),
            "families": (pop["families_recognized"], pop["families_total"]),
            "clans": (pop["clans_recognized"], pop["clans_total"]),
            "communities": (pop["communities_recognized"],
                            pop["communities_total"]),
            "units": (pop["units_recognized"], pop["units_total"]),
        }
        indicators = {}
        for name in INDICATORS:
            num, den = fractions[name]
            t25, t30 = self.targets[name]
            n25, n30 = needed(t25, num, den), needed(t30, num, den)
            indicators[name] = {
                "numerator": num,
                "denominator": den,
                "percent": percent_candidates(num, den),
                "targets": {"2025": t25, "2030": t30},
                "needed": {"2025": n25, "2030": n30},
                "met": {"2025": n25 == 0 and den > 0,
                        "2030": n30 == 0 and den > 0},
            }
        # recognition by score: everyone eligible is recognised
        counts = {"assessed": c["assessed"], "recognized": c["recognized"],
                  "eligible": c["recognized"],
                  "outstanding": c["outstanding"], "by_group": c["by_group"]}
        return {"year": year, "indicators": indicators, "counts": counts}


def progress(submissions, population, targets=None, year=None):
    """Functional form: the expected progress of `year` for a node that
    holds exactly `submissions` (iterable of assessment dicts, later ones
    replacing earlier ones with the same key) and `population`
    ({year: obj})."""
    m = Model(targets)
    for a in submissions:
        m.submit(a)
    for y, obj in population.items():
        m.set_population(y, obj)
    return m.progress(year)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def diff_progress(got, exp, node_info=None):
    """List of human-readable mismatches between a daemon progress document
    `got` and the model's `exp`; empty when they agree."""
    bad = []
    if not isinstance(got, dict):
        return ["progress is not a JSON object: %r" % (got,)]
    if got.get("year") != exp["year"]:
        bad.append("year: got %r, want %r" % (got.get("year"), exp["year"]))
    if node_info is not None:
        n = got.get("node") or {}
        for k, v in node_info.items():
            if n.get(k) != v:
                bad.append("node.%s: got %r, want %r" % (k, n.get(k), v))
    inds = got.get("indicators")
    if not isinstance(inds, dict):
        bad.append("indicators missing or not an object")
        inds = {}
    for name, e in exp["indicators"].items():
        g = inds.get(name)
        if not isinstance(g, dict):
            bad.append("indicators.%s missing" % name)
            continue
        for k in ("numerator", "denominator"):
            if not is_int(g.get(k)) or g.get(k) != e[k]:
                bad.append("indicators.%s.%s: got %r, want %r"
                           % (name, k, g.get(k), e[k]))
        p = g.get("percent", "<absent>")
        if e["percent"] is None:
            if p is not None:
                bad.append("indicators.%s.percent: got %r, want null"
                           % (name, p))
        elif (not isinstance(p, (int, float)) or isinstance(p, bool)
              or not any(abs(p - c) < 1e-9 for c in e["percent"])):
            bad.append("indicators.%s.percent: got %r, want %s (%d/%d)"
                       % (name, p, " or ".join(map(str, e["percent"])),
                          e["numerator"], e["denominator"]))
        for k in ("targets", "needed", "met"):
            gk = g.get(k)
            for yr in ("2025", "2030"):
                gv = gk.get(yr, "<absent>") if isinstance(gk, dict) else "<absent>"
                ev = e[k][yr]
                ok = (gv is ev) if isinstance(ev, bool) else (is_int(gv) and gv == ev)
                if not ok:
                    bad.append("indicators.%s.%s.%s: got %r, want %r (num %d, den %d)"
                               % (name, k, yr, gv, ev, e["numerator"],
                                  e["denominator"]))
    gc = got.get("counts")
    if not isinstance(gc, dict):
        return bad + ["counts missing or not an object"]
    for k in ("assessed", "recognized", "eligible", "outstanding"):
        if k not in exp["counts"]:
            continue  # a counter the node's release does not know
        if not is_int(gc.get(k)) or gc.get(k) != exp["counts"][k]:
            bad.append("counts.%s: got %r, want %r"
                       % (k, gc.get(k), exp["counts"][k]))
    gb = gc.get("by_group")
    if not isinstance(gb, dict):
        bad.append("counts.by_group missing or not an object")
        gb = {}
    for grp, e in exp["counts"]["by_group"].items():
        g = gb.get(grp)
        if g is None and e["assessed"] == 0:
            continue  # a group nobody belongs to may be left out
        if not isinstance(g, dict):
            bad.append("counts.by_group.%s missing (want %r)" % (grp, e))
            continue
        for k in ("assessed", "recognized"):
            if not is_int(g.get(k)) or g.get(k) != e[k]:
                bad.append("counts.by_group.%s.%s: got %r, want %r"
                           % (grp, k, g.get(k), e[k]))
    for grp in gb:
        if grp not in GROUPS:
            bad.append("counts.by_group has unknown group %r" % grp)
    return bad
