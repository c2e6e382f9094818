# Estimators judged on the same kept repetitions of every pair of runs since "Ten kept repetitions"
# (docs/noise.md): per pair, the share of rows whose two estimates agree within 5%.
# Run from this folder: ../../../../../../.venv/bin/python estimators.py
import os, warnings
import pandas as pd
warnings.filterwarnings('ignore')
KEY = ['op', 'impl', 'dtype', 'threads', 'batch', 'shape']

def estimates(path):
    d = pd.read_csv(path)
    d = d[d.kept == 'yes'].copy()
    d['scaled'] = d.seconds / d.canary_ratio
    g = d.sort_values('seconds').groupby(KEY)
    s = g.seconds
    return pd.DataFrame({
        'least': s.min(),
        '2nd': s.apply(lambda x: x.iloc[min(1, len(x) - 1)]),
        '3rd': s.apply(lambda x: x.iloc[min(2, len(x) - 1)]),
        'mean of 3 least': s.apply(lambda x: x.iloc[:3].mean()),
        'q20': s.quantile(0.2),
        'median': s.median(),
        'least scaled by its canary': g.scaled.min(),
        'least / least canary': s.min() / g.canary_ratio.min(),
    })

pairs = []
for folder in ['../../min-kept-10', '../../waited', '.']:
    for n in ['hf1', 'hf2', 'hl1', 'hl2', 'uf1', 'uf2', 'ul1', 'ul2']:
        a, b = f'{folder}/{n}-a.reps.csv.gz', f'{folder}/{n}-b.reps.csv.gz'
        if os.path.exists(a) and os.path.exists(b):
            pairs.append((f'{os.path.basename(folder) if folder != "." else "fresh-rounds"}/{n}', a, b))
rows = {}
for name, a, b in pairs:
    ea, eb = estimates(a), estimates(b)
    j = ea.join(eb, how='inner', lsuffix=' a', rsuffix=' b')
    rows[name] = {c: 100 * ((j[c + ' b'] / j[c + ' a'] - 1).abs() <= 0.05).mean() for c in ea.columns}
table = pd.DataFrame(rows).T.round(1)
pd.set_option('display.width', 250)
print(table.to_string())
print('mean over pairs:')
print(table.mean().round(1).to_string())
