# sample: the student notebook as handed out, nothing filled in
# expect: q1=0 q2=0
# feedback: q1: dh1 should be a tensor
# feedback: q2: d2 should be 6 * x2 = 12
