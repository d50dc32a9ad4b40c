using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// The C counterpart of <see cref="Reference.Broadcast"/>: nested loops over an output whose operands broadcast to it
/// (TFLite's rules: shapes align at the last dimension, size-1 or missing dimensions repeat), for any number of
/// operands. Dimensions contiguous in every operand are merged, so the same-shape case is one flat loop.
/// </summary>
internal sealed class BroadcastLoops
{
    private BroadcastLoops(int[] dims, long[][] strides) => (_dims, _strides) = (dims, strides);

    private readonly int[] _dims;
    private readonly long[][] _strides;   // [operand][merged dimension], 0 where the operand is broadcast

    /// <summary>The loops, or null when an operand does not broadcast to <paramref name="output"/>.</summary>
    public static BroadcastLoops? Of(int[] output, params int[][] operands)
    {
        int rank = output.Length;
        var strides = new long[operands.Length][];
        for (int k = 0; k < operands.Length; k++)
        {
            var shape = operands[k];
            if (shape.Length > rank) return null;
            strides[k] = new long[rank];
            long stride = 1;
            for (int i = rank - 1; i >= 0; i--)
            {
                int j = i - (rank - shape.Length);
                int dim = j >= 0 ? shape[j] : 1;
                if (dim != output[i] && dim != 1) return null;
                strides[k][i] = dim == 1 && output[i] != 1 ? 0 : stride;
                stride *= dim;
            }
        }

        // Merge dimension i into the previous one when every operand is contiguous across them.
        var dims = new List<int>();
        var merged = operands.Select(_ => new List<long>()).ToArray();
        for (int i = 0; i < rank; i++)
        {
            if (output[i] == 1) continue;
            if (dims.Count > 0 && Enumerable.Range(0, operands.Length).All(k => merged[k][^1] == strides[k][i] * output[i]))
            {
                dims[^1] *= output[i];
                for (int k = 0; k < operands.Length; k++) merged[k][^1] = strides[k][i];
                continue;
            }

            dims.Add(output[i]);
            for (int k = 0; k < operands.Length; k++) merged[k].Add(strides[k][i]);
        }

        if (dims.Count == 0)
        {
            dims.Add(1);
            foreach (var m in merged) m.Add(0);
        }

        return new BroadcastLoops(dims.ToArray(), merged.Select(m => m.ToArray()).ToArray());
    }

    /// <summary>The merged dimensions, outermost first (at least one).</summary>
    public IReadOnlyList<int> Dims => _dims;

    /// <summary>Operand <paramref name="operand"/>'s stride in elements along merged dimension <paramref name="dim"/> (0: broadcast).</summary>
    public long Stride(int operand, int dim) => _strides[operand][dim];

    /// <summary>The loops of <paramref name="node"/>'s inputs over its output (checked by <see cref="Mismatch"/>).</summary>
    public static BroadcastLoops For(Node node) => Of(node.Output.Shape, node.Inputs.Select(t => t!.Shape).ToArray())!;

    /// <summary>Null when <paramref name="node"/>'s inputs broadcast to its output, else what is wrong.</summary>
    public static string? Mismatch(Node node) =>
        Of(node.Output.Shape, node.Inputs.Select(t => t!.Shape).ToArray()) is null
            ? $"shapes {string.Join(", ", node.Inputs.Select(t => t!.ShapeText))} do not broadcast to {node.Output.ShapeText}"
            : null;

    /// <summary><see cref="Mismatch"/>, and every input of the output's element type.</summary>
    public static string? SameTypeMismatch(Node node) =>
        node.Inputs.Any(t => t!.Type != node.Output.Type) ? "inputs and output must have the same element type" : Mismatch(node);

    /// <summary>Writes the loops; <paramref name="element"/> gets each operand's element (<c>pointer[index]</c>) and
    /// the output element, which advances by one per iteration.</summary>
    public void Emit(CodeWriter body, string output, string[] pointers, Action<string[], string> element)
    {
        body.Line("size_t o = 0;");
        var index = pointers.Select(_ => "0").ToArray();
        var scopes = new Stack<IDisposable>();
        for (int d = 0; d < _dims.Length; d++)
        {
            scopes.Push(body.Block($"for (int i{d} = 0; i{d} < {_dims[d]}; ++i{d})"));
            for (int k = 0; k < pointers.Length; k++)
                if (_strides[k][d] != 0) index[k] += $" + (size_t)i{d} * {_strides[k][d]}";
        }

        element(pointers.Select((p, k) => $"{p}[{Simplify(index[k])}]").ToArray(), $"{output}[o++]");
        while (scopes.Count > 0) scopes.Pop().Dispose();
    }

    private static string Simplify(string index) => index.StartsWith("0 + ", StringComparison.Ordinal) ? index[4..] : index;
}
