# sample: issue 11 case 4: linear_grads left as the template (its body is ...): it returns None
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=2.5
# fails: q3_public q3_linear_grads
# structural: q3_linear_grads
# public-feedback: q3: `linear_grads`


# %% linear_grads
def linear_grads(model, X, Y):
    # return (weight_grad, bias_grad) of the MSE loss; leave the parameters unchanged
    ...
