# The least kept repetition of each row under three rejection rules, two --repetitions-csv files:
# python rules.py A.reps.csv.gz B.reps.csv.gz
import pandas as pd, sys
key=['op','impl','dtype','threads','batch','shape']
def est(f, keep):
    d=pd.read_csv(f); d.rejected_by=d.rejected_by.fillna('')
    k=d[d.rejected_by.isin(keep)]
    return k.groupby(key).seconds.min()
a,b=sys.argv[1],sys.argv[2]
for name,keep in [('landed (canary, others, waited)',['']),('without waited',['','waited']),('every repetition',['','waited','others','canary'])]:
    ea,eb=est(a,keep),est(b,keep)
    r=(eb/ea).dropna()
    d=(r-1).abs()
    print(f"{name:35} rows {len(r):4} within5 {100*(d<=0.05).mean():5.1f}%  median {100*d.median():.2f}%")
