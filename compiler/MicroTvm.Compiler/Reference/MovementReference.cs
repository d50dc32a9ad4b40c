using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// One strided copy: for every index vector i below <see cref="Counts"/>,
/// <c>output[OutOffset + Σ i_d·OutStrides_d] = input[InOffset + Σ i_d·InStrides_d]</c> (element offsets; strides may be
/// 0 to repeat an element or negative to reverse).
/// </summary>
internal sealed record MoveView(int Input, int[] Counts, long[] InStrides, long InOffset, long[] OutStrides, long OutOffset)
{
    public long ElementCount => Counts.Aggregate(1L, (a, c) => a * c);
}

/// <summary>How one output of a data-movement operator is produced: filled with <see cref="FillElement"/> (the
/// bytes of one element) if set, then written by each view in order.</summary>
internal sealed record MovePlan(int Output, byte[]? FillElement, IReadOnlyList<MoveView> Views);

/// <summary>
/// Operators that only move elements, each described as strided copies computed at compile time
/// (<see cref="MovementAttributes.Plans"/>). The reference evaluator runs the plans element by element; the C kernel
/// writes them as loops, so both follow one description, and both are checked against TFLite Micro's outputs
/// (tests/operators).
/// </summary>
internal static class MovementReference
{
    public static void Evaluate(Node node, TensorValues values)
    {
        foreach (var plan in MovementAttributes.Plans(node))
        {
            var output = node.Outputs[plan.Output];
            int size = output.Type.SizeInBytes();
            var result = new byte[output.ByteSize];
            if (plan.FillElement is { } fill)
                for (long i = 0; i < output.ElementCount; i++) Array.Copy(fill, 0, result, i * size, size);
            foreach (var view in plan.Views)
            {
                var source = values.Bytes(node.Input(view.Input));
                int rank = view.Counts.Length;
                if (view.ElementCount == 0) continue;
                var position = new int[rank];
                for (long n = 0; n < view.ElementCount; n++)
                {
                    long from = view.InOffset, to = view.OutOffset;
                    for (int d = 0; d < rank; d++)
                    {
                        from += position[d] * view.InStrides[d];
                        to += position[d] * view.OutStrides[d];
                    }

                    Array.Copy(source, from * size, result, to * size, size);
                    for (int d = rank - 1; d >= 0; d--)
                    {
                        if (++position[d] < view.Counts[d]) break;
                        position[d] = 0;
                    }
                }
            }

            values.SetBytes(output, result);
        }
    }
}
