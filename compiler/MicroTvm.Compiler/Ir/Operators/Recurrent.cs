using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Ir;

/// <summary>Recurrent operators: their state lives in variable tensors among their operands.</summary>
public sealed partial class OpKind
{
    public static readonly OpKind UnidirectionalSequenceLstm = new()
    {
        Name = "UNIDIRECTIONAL_SEQUENCE_LSTM", BuiltinCode = 44,
        Types = new[] { ElementType.Float32, ElementType.Int8, ElementType.Int16 },
        TypesText = "float32 (float32 weights), int8 (int8 weights, int32 biases, int16 cell state), int16 (int8 weights, int64 biases, int16 cell state)",
        Import = r =>
        {
            r.Inputs(Lstm.OperandCount, Lstm.OperandCount);
            var o = r.Options(71 /* UnidirectionalSequenceLSTMOptions */);
            var operands = Enumerable.Range(0, Lstm.OperandCount).Select(i => i == Lstm.Input ? r.Required(i, "input") : r.Optional(i)).ToArray();
            return (new LstmAttributes(r.Activation(o?.Int8(0) ?? 0), o?.Float32(1) ?? 0f, o?.Float32(2) ?? 0f, o?.Bool(3) ?? false), operands);
        },
        CheckOperands = Lstm.Check,
        InferShape = s => Lstm.OutputShape(s.Node, s.Fail),
        Macs = node =>
        {
            var s = Lstm.SizesOf(node); // every step: 4 gates x (input + recurrent) products per unit
            return (long)s.Batch * s.Time * 4 * s.StateSize * (s.InputSize + s.StateSize);
        },
        Evaluate = LstmReference.UnidirectionalSequenceLstm,
        Kernel = new Codegen.Kernels.LstmKernel(),
    };
}

/// <summary>
/// UNIDIRECTIONAL_SEQUENCE_LSTM. Inputs: TFLite's 24 operands in order (see <see cref="Lstm"/>), absent optional ones
/// null; operands 18 and 19 are the variable (state) tensors the operator reads and updates.
/// </summary>
/// <param name="Activation">The cell gate's activation (TFLite Micro computes TANH only).</param>
/// <param name="CellClip">Clip of the cell state in real units; 0 means none.</param>
/// <param name="TimeMajor">Input [time, batch, features] when true, [batch, time, features] when false.</param>
public sealed record LstmAttributes(FusedActivation Activation, float CellClip, float ProjectionClip, bool TimeMajor) : OpAttributes
{
    public override string Describe() => AttributeText.Join(TimeMajor ? "time major" : "", AttributeText.Activation(Activation),
        CellClip > 0 ? $"cell clip {CellClip.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "");
}
