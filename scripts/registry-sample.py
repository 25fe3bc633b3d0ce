#!/usr/bin/env python3
"""Writes a synthetic registry export for benchmarks: N rows with valid, distinct NIKs over real
desa codes (client/data/wilayah.csv), SYNTHETIC people only.
usage: scripts/registry-sample.py N > registry.csv"""
import random
import sys

n = int(sys.argv[1])
root = __file__.rsplit("/", 2)[0]
desa = [c for c in (l.split(",")[0] for l in open(f"{root}/client/data/wilayah.csv")) if c.count(".") == 3 and len(c.replace(".", "")) == 10]
rng = random.Random(2026)
print("nik,name,family_card,region_code,amount,channel")
for i in range(n):
    d = rng.choice(desa)
    code = d.replace(".", "")
    day = rng.randint(1, 28) + (40 if rng.random() < 0.5 else 0)
    nik = f"{code[:6]}{day:02d}{rng.randint(1, 12):02d}{rng.randint(40, 99):02d}{i % 9999 + 1:04d}"
    # The serial keeps NIKs distinct within a kecamatan and date; clashes are refused as repeats.
    fk = f"{code[:6]}{i:010d}"
    print(f"{nik},Penerima {i},{fk},{code},,{'bri' if rng.random() < 0.6 else 'pos'}")
