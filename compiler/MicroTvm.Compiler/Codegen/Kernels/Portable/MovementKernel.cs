using System.Globalization;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// SLICE, SPLIT, SPLIT_V, PACK, UNPACK, REVERSE_V2, BROADCAST_TO, DEPTH_TO_SPACE, SPACE_TO_DEPTH, GATHER (constant
/// indices), MIRROR_PAD, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND, FILL, ZEROS_LIKE: the strided copies of
/// <see cref="MovementAttributes.Plans"/> as loops with constant bounds and strides (a contiguous innermost run as
/// memcpy). Copies that differ only in where they start (a gather's indices, space-to-batch's blocks) share one
/// loop nest over a table of start offsets.
/// </summary>
internal sealed class MovementKernel : Kernel
{
    public override string? Unsupported(Node node) =>
        node.Outputs.All(o => o.Type == node.Input(0).Type) ? null : "inputs and outputs must have the same element type";

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var body = c.Body;
        c.Support.UseMemcpy();
        var plans = MovementAttributes.Plans(node);
        // ZEROS_LIKE reads only its input's shape.
        for (int k = 0; k < node.Inputs.Count; k++)
            if (!node.Input(k).IsConstant && !plans.Any(p => p.Views.Any(v => v.Input == k)))
                body.Line($"(void){c.Input(k)};");
        int table = 0;
        foreach (var plan in plans)
        {
            var output = node.Outputs[plan.Output];
            string o = c.Output(plan.Output);
            int size = output.Type.SizeInBytes();
            if (plan.FillElement is not null && output.ElementCount > 0)
                body.Line($"memset({o}, 0, {output.ByteSize}u);");
            var groups = plan.Views.Where(v => v.ElementCount > 0)
                .GroupBy(v => (v.Input, Counts: Key(v.Counts), In: Key(v.InStrides), Out: Key(v.OutStrides)));
            foreach (var group in groups)
            {
                var views = group.ToList();
                var first = views[0];
                string source = c.Input(first.Input);
                if (views.Count <= 2)
                {
                    foreach (var v in views)
                        EmitView(body, v, o, source, Literal(v.InOffset), Literal(v.OutOffset), size);
                    continue;
                }

                string name = $"starts{table++}";
                body.Line($"static const int32_t {name}[{2 * views.Count}] = {{ {string.Join(", ", views.Select(v => $"{v.InOffset}, {v.OutOffset}"))} }};");
                using (body.Block($"for (size_t v = 0; v < {views.Count}u; ++v)"))
                    EmitView(body, first, o, source, $"(ptrdiff_t){name}[2u * v]", $"(ptrdiff_t){name}[2u * v + 1u]", size);
            }
        }
    }

    private static string Key(IEnumerable<long> values) => string.Join(",", values);

    private static string Key(IEnumerable<int> values) => string.Join(",", values);

    private static string Literal(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>One view: nested loops (dimensions of count 1 dropped); an innermost dimension contiguous on both
    /// sides becomes one memcpy.</summary>
    private static void EmitView(CodeWriter body, MoveView v, string output, string input, string inStart, string outStart, int size)
    {
        var dims = Enumerable.Range(0, v.Counts.Length).Where(d => v.Counts[d] != 1).ToList();
        bool contiguous = dims.Count > 0 && v.InStrides[dims[^1]] == 1 && v.OutStrides[dims[^1]] == 1;
        var loops = contiguous ? dims.Take(dims.Count - 1).ToList() : dims;
        var scopes = new Stack<IDisposable>();
        string from = inStart, to = outStart;
        foreach (int d in loops)
        {
            scopes.Push(body.Block($"for (ptrdiff_t i{d} = 0; i{d} < {v.Counts[d]}; ++i{d})"));
            if (v.InStrides[d] != 0) from += $" + i{d} * {Literal(v.InStrides[d])}";
            if (v.OutStrides[d] != 0) to += $" + i{d} * {Literal(v.OutStrides[d])}";
        }

        if (contiguous)
            body.Line($"memcpy({output} + ({to}), {input} + ({from}), {(long)v.Counts[dims[^1]] * size}u);");
        else
            body.Line($"{output}[{to}] = {input}[{from}];");
        while (scopes.Count > 0) scopes.Pop().Dispose();
    }
}
