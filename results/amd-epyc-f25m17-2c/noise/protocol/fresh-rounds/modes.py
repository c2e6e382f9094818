# Per row: max/min of measured_s over 6 processes each way, alternating (2026-12-07 23:03, Zen 4 guest):
# keep = operands kept across rounds (main before c2a4873), fresh = each round on operands of its own.
# Each process: roofbench run --shapes ../huge-pages/modes.shapes --impls opt,blas --dtypes f32 --threads 2 --profile <quick profile>
# Run from this folder: ../../../../../.venv/bin/python modes.py
import pandas as pd, glob, sys
rows=[]
for kind in ['keep','fresh']:
    for f in sorted(glob.glob(f'modes-{kind}-*.csv')):
        d=pd.read_csv(f); d['kind']=kind; d['run']=f.split('-')[-1][:-4]; rows.append(d)
d=pd.concat(rows)
d['name']=d['shape'].str.extract(r'name=(\S+)')[0]
pd.set_option('display.width',250)
t=d.pivot_table(index=['op','impl','name'],columns=['kind','run'],values='measured_s')*1e3
print(t.round(3).to_string())
s=d.groupby(['op','impl','name','kind']).measured_s.agg(lambda x: x.max()/x.min()).unstack()
m=d.groupby(['op','impl','name','kind']).measured_s.min().unstack()*1e3
print(s.round(3).join(m.round(3).add_suffix(' least ms')).to_string())
print('median max/min', s.median().round(3).to_dict())
