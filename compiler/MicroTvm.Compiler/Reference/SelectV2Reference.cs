using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Reference;

/// <summary>SELECT_V2 as TFLite Micro computes it: the stored value of x where the (broadcast) condition is true, else
/// y's; values are moved, never requantized.</summary>
internal static class SelectV2Reference
{
    public static void Evaluate(Node node, TensorValues values)
    {
        var (condition, x, y, output) = (node.Input(0), node.Input(1), node.Input(2), node.Output);
        var shape = output.Shape;
        var take = Broadcast.To(values.Ints(condition), condition.Shape, shape);
        int size = output.Type.SizeInBytes();
        var (xBytes, yBytes) = (values.Bytes(x), values.Bytes(y));
        var (xi, yi) = (Broadcast.SourceIndices(x.Shape, shape), Broadcast.SourceIndices(y.Shape, shape));
        var result = new byte[output.ByteSize];
        for (int i = 0; i < take.Length; i++)
        {
            var (source, index) = take[i] != 0 ? (xBytes, xi[i]) : (yBytes, yi[i]);
            Array.Copy(source, index * size, result, i * size, size);
        }

        values.SetBytes(output, result);
    }
}
