# sample: model3 = nn.Linear(1, 3): the forward pass raises, nothing of q3 after it runs
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=1.5
# fails: q3_public q3_gradients q3_sgd_step
# structural: q3_gradients q3_sgd_step
# public-feedback: q3: `model3` should be torch.nn.Linear(3, 1)


# %% model3
model3 = torch.nn.Linear(1, 3)
