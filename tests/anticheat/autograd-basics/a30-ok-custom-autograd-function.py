# sample: honest answers that look unusual: f1 as a torch.autograd.Function with a hand-written backward, linear_grads through an nn.Module wrapper with __repr__ and an alias of torch.nn.functional.mse_loss
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# flagged: no
# honest: q1=2 q2=3 q3=5

# %% f1
class LogPlusCube(torch.autograd.Function):
    """ln x + x^3 with a hand-written backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.log(x) + x ** 3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (1 / x + 3 * x ** 2)


def f1(x):
    return LogPlusCube.apply(x)

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
y1.backward()
grad1 = x1.grad

# %% linear_grads
mse = torch.nn.functional.mse_loss


class Wrapped(torch.nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, X):
        return self.layer(X)

    def __repr__(self):
        return f"Wrapped({self.layer})"


def linear_grads(model, X, Y):
    wrapped = Wrapped(model)
    loss = mse(wrapped(X), Y)
    weight_grad, bias_grad = torch.autograd.grad(loss, [model.weight, model.bias])
    return weight_grad, bias_grad
