# Per row, each process's measured_s on 4 KiB pages and on huge pages, and max/min per kind.
# Run from this folder: ../../../../../.venv/bin/python modes.py
import pandas as pd, glob
key=['op','impl','shape']
rows=[]
for kind in ['4k','2m']:
    for f in sorted(glob.glob(f'modes-{kind}-*.csv')):
        d=pd.read_csv(f); d['kind']=kind; d['run']=f[-5]; rows.append(d)
d=pd.concat(rows)
d['name']=d['shape'].str.extract(r'name=(\S+)')[0]
t=d.pivot_table(index=['op','impl','name'],columns=['kind','run'],values='measured_s')*1e3
pd.set_option('display.width',250)
print(t.round(3).to_string())
s=d.groupby(['op','impl','name','kind']).measured_s.agg(lambda x: x.max()/x.min()).unstack()
m=d.groupby(['op','impl','name','kind']).measured_s.min().unstack()*1e3
print((s.round(3)).join(m.round(3).add_suffix(' least ms')).to_string())
