using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>int8 UNIDIRECTIONAL_SEQUENCE_LSTM for CPUs with the DSP extension: <see cref="LstmKernel"/> with its dot
/// products on SMLAD (int16 weight pairs, one LDRD per gate and word, against the step's input and hidden values widened once).</summary>
internal sealed class DspLstmKernel : TargetKernel
{
    private readonly LstmKernel _kernel = new DspVariant();

    public override bool Handles(Node node, TargetDescription target) =>
        target.HasDsp && node.Kind == OpKind.UnidirectionalSequenceLstm && node.Input(Lstm.Input).Type == ElementType.Int8;

    public override string? Unsupported(Node node) => _kernel.Unsupported(node);

    public override long ScratchBytes(Node node) => _kernel.ScratchBytes(node);

    public override void Emit(EmitContext c) => _kernel.Emit(c);

    private sealed class DspVariant : LstmKernel
    {
        protected override bool Dsp => true;
    }
}
