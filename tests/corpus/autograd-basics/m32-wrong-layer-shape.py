# sample: model3 = nn.Linear(1, 3): the forward pass raises, nothing of q3 after it runs
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=1.5
# public-feedback: q3: `model3` should be torch.nn.Linear(3, 1)


# %% model3
model3 = torch.nn.Linear(1, 3)
