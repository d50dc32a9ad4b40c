namespace MicroTvm.Compiler.Ir;

/// <summary>
/// A tensor of the graph: an activation (produced by a node or fed as a graph input) or a constant
/// (weights, biases: <see cref="Data"/> is set). Shapes are row-major, NHWC for images, as in TFLite.
/// </summary>
public sealed class Tensor
{
    public Tensor(int id, string name, ElementType type, int[] shape, QuantizationParameters? quantization = null, byte[]? data = null)
    {
        Id = id;
        Name = name;
        Type = type;
        Shape = shape;
        Quantization = quantization;
        Data = data;
    }

    /// <summary>Index of the tensor in the source model's subgraph (TFLite tensor index), unique in a graph.</summary>
    public int Id { get; }

    public string Name { get; }

    public ElementType Type { get; }

    /// <summary>The static shape. Shape inference may replace it (it never changes the element count of a constant).</summary>
    public int[] Shape { get; set; }

    public QuantizationParameters? Quantization { get; }

    /// <summary>Little-endian element bytes of a constant tensor; null for activations.</summary>
    public byte[]? Data { get; }

    public bool IsConstant => Data is not null;

    /// <summary>A variable (state) tensor (TFLite <c>is_variable</c>): no operator produces it; operators read it and
    /// update it in place (SVDF's activation state, LSTM's output and cell state). Its value persists from one run to
    /// the next, in a part of the workspace nothing else uses, until <c>&lt;name&gt;_reset</c> sets it to
    /// <see cref="InitialByte"/> again, as TFLM's <c>Reset()</c> does.</summary>
    public bool IsVariable { get; init; }

    /// <summary>The byte every element byte of a variable tensor starts from (TFLM's <c>ResetVariableTensors</c>):
    /// the zero point for int8, 0 otherwise.</summary>
    public byte InitialByte => Type == ElementType.Int8 && Quantization is { } q ? unchecked((byte)q.ZeroPoints[0]) : (byte)0;

    public int Rank => Shape.Length;

    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (var dim in Shape) count = checked(count * dim);
            return count;
        }
    }

    public long ByteSize => checked(ElementCount * Type.SizeInBytes());

    public string ShapeText => "[" + string.Join(",", Shape) + "]";

    /// <summary>"t3 'name' int8[1,4]", the name shown literally (it comes from the model file).</summary>
    public override string ToString() => $"t{Id} '{Diagnostics.UntrustedText.ForDisplay(Name)}' {Type.DisplayName()}{ShapeText}";
}
