"""Deterministic random assessments, denominators and CSV text for the
system tests.  Everything is drawn from a random.Random(seed)."""

import csv
import io
import random

from .model import DIGITAL, GROUPS, POP_PAIRS, score

CSV_COLUMNS = (["year", "person_id", "name", "birth_year", "group",
                "population"] + ["s%d" % i for i in range(1, 11)]
               + ["digital"])

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Lò", "Cầm", "Quàng",
          "Đặng", "Vì"]
MIDDLE = ["Văn", "Thị", "Đức", "Ngọc", "Thanh"]
GIVEN = ["An", "Bình", "Chiến", "Dung", "Hương", "Khánh", "Lan", "Minh",
         "Ánh", "Ơn", "Ửng", "Yến"]


def random_name(rng):
    n = "%s %s %s" % (rng.choice(FAMILY), rng.choice(MIDDLE),
                      rng.choice(GIVEN))
    r = rng.random()
    if r < 0.05:
        n += ", bản Nà Sự"          # a comma: CSV must quote it
    elif r < 0.08:
        n = 'Lò Văn "Bình"'         # quotes: CSV must double them
    return n


def scores_recognized(rng):
    while True:
        s = [rng.randint(7, 10) for _ in range(10)]
        if score(s)[1]:
            return s


def scores_random(rng):
    r = rng.random()
    if r < 0.05:
        s = [10] * 10
        s[rng.randrange(10)] = 4    # 94 with a 4: not recognised
        return s
    if r < 0.10:
        s = [8] * 10                # exactly 80
        if rng.random() < 0.5:
            s[rng.randrange(10)] = 7  # 79
        return s
    q = rng.choice([5, 6, 7, 8, 8, 9, 9, 10])
    return [max(1, min(10, q + rng.randint(-2, 2))) for _ in range(10)]


def person_ids(rng, n, prefix):
    ids = []
    for i in range(n):
        r = rng.random()
        if r < 0.03:
            ids.append("%s/%05d số %d" % (prefix, i, i % 7))   # '/', space, UTF-8
        elif r < 0.05:
            ids.append("%s,%05d" % (prefix, i))                # a comma
        else:
            ids.append("%s%05d" % (prefix, i))
    return ids


def assessments(rng, n_persons, years, prefix="P", level="commune",
                star_share=0.12, attend=0.85):
    """A list of assessments: one per (year, person) that attends.  About
    star_share of the persons are recognised every year (they become
    outstanding)."""
    out = []
    for pid in person_ids(rng, n_persons, prefix):
        star = rng.random() < star_share
        group = rng.choice(GROUPS)
        if level == "commune" and rng.random() < 0.7:
            pop = "adult"
        else:
            pop = "staff"
        name = random_name(rng) if rng.random() < 0.8 else None
        birth = rng.randint(1950, 2005) if rng.random() < 0.7 else None
        for y in years:
            if not star and rng.random() > attend:
                continue
            a = {"year": y, "person_id": pid, "group": group,
                 "population": pop,
                 "scores": scores_recognized(rng) if star else scores_random(rng),
                 "digital": rng.choice(DIGITAL + ("skilled", "proficient"))}
            if name is not None:
                a["name"] = name
            if birth is not None:
                a["birth_year"] = min(birth, y)
            out.append(a)
    return out


def population(rng):
    """A random, valid denominators object (every *_recognized <= total)."""
    p = {"adults": rng.randint(0, 3000), "staff": rng.randint(0, 800)}
    for rec, tot in POP_PAIRS:
        t = rng.randint(0, 900)
        p[tot] = t
        p[rec] = rng.randint(0, t)
    if rng.random() < 0.2:
        p["clans_total"] = p["clans_recognized"] = 0  # denominator 0
    return p


def to_csv(items, columns=None, crlf=False, rng=None):
    """CSV text (header first) of assessments.  items may contain raw rows
    (lists of cells, written as they are) to make bad lines.  columns: a
    permutation/subset of CSV_COLUMNS."""
    cols = list(columns or CSV_COLUMNS)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    w.writerow(cols)
    for a in items:
        if isinstance(a, list):
            w.writerow(a)
            continue
        row = []
        for c in cols:
            if c.startswith("s") and c[1:].isdigit():
                row.append(a["scores"][int(c[1:]) - 1])
            else:
                v = a.get(c)
                row.append("" if v is None else v)
        w.writerow(row)
    return buf.getvalue()


def shuffled_columns(rng, drop_optional=False):
    cols = list(CSV_COLUMNS)
    if drop_optional:
        cols.remove("name")
        cols.remove("birth_year")
    rng.shuffle(cols)
    return cols
