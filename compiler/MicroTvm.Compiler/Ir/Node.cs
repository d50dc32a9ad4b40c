namespace MicroTvm.Compiler.Ir;

/// <summary>One operator instance. <see cref="Index"/> is the operator's index in the source model, so every
/// message can name it the way the user's tools (Netron, TFLite) do.</summary>
public sealed class Node
{
    public Node(int index, OpKind kind, OpAttributes attributes, IReadOnlyList<Tensor?> inputs, IReadOnlyList<Tensor> outputs)
    {
        Index = index;
        Kind = kind;
        Attributes = attributes;
        Inputs = inputs;
        Outputs = outputs;
    }

    public int Index { get; }

    public OpKind Kind { get; }

    public OpAttributes Attributes { get; }

    /// <summary>Operands in TFLite order; null where an optional operand (e.g. a bias) is absent.</summary>
    public IReadOnlyList<Tensor?> Inputs { get; }

    public IReadOnlyList<Tensor> Outputs { get; }

    public T AttributesAs<T>() where T : OpAttributes => (T)Attributes;

    /// <summary>The input at <paramref name="i"/>, which must be present.</summary>
    public Tensor Input(int i) => Inputs[i] ?? throw new InvalidOperationException($"{this}: input {i} is absent");

    public Tensor Output => Outputs[0];

    /// <summary>The optional bias (input 2) of CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV and FULLY_CONNECTED; null
    /// when absent.</summary>
    public Tensor? Bias => Inputs.Count > 2 ? Inputs[2] : null;

    public override string ToString() => $"operator {Index} ({Kind.Name})";
}
