# sample: the student notebook as handed out, nothing filled in
# expect: q1=0 q2=0 q3=0
# feedback: q1: `x1` is still `...`
