using System.Reflection;
using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Ir;

/// <summary>
/// An operator the compiler understands, with everything the compiler knows about it: its TFLite builtin code and
/// name, how the importer reads its options and operands into attributes, the element types it accepts, its
/// output shape, its multiply-accumulates, its reference implementation (the evaluator) and its portable C kernel.
/// Each operator is one <c>public static readonly OpKind</c> field, declared in its family's file under
/// <c>Ir/Operators/</c> (this class is partial); <see cref="All"/> finds them there. Nothing else lists operators:
/// adding one is its registration, its reference implementation, its C kernel, and the docs
/// (docs/adding-an-operator.md).
/// </summary>
public sealed partial class OpKind
{
    /// <summary>The TFLite builtin operator name (CONV_2D, …), used in every message a user reads.</summary>
    public required string Name { get; init; }

    /// <summary>The TFLite BuiltinOperator value.</summary>
    public required int BuiltinCode { get; init; }

    /// <summary>Element types of the main input (see <see cref="OperatorSupport"/>); arithmetic ones by default.</summary>
    public IReadOnlyList<ElementType> Types { get; init; } = OperatorSupport.Arithmetic;

    /// <summary>How messages describe the accepted types; by default the list of <see cref="Types"/>.</summary>
    public string TypesText
    {
        get => _typesText ?? string.Join(", ", Types.Select(t => t.DisplayName()));
        init => _typesText = value;
    }

    private readonly string? _typesText;

    /// <summary>[input, weights, bias?] with int8 weights for quantized activations (CONV_2D and its relatives).</summary>
    public bool HasWeights { get; init; }

    /// <summary>Per-channel weight scales run along this dimension of the weights (TFLite Micro ignores the tensor's
    /// quantized_dimension).</summary>
    public int ChannelDimension { get; init; }

    /// <summary>The operator only moves int8/int16 values, so its tensors need no quantization parameters.</summary>
    public bool MovesDataOnly { get; init; }

    /// <summary><see cref="CheckTypes"/> judges every operand's type, not only the main input's: the operands have
    /// several types (SVDF's int16 time weights and int32 bias beside int8 activations).</summary>
    public bool ChecksAllOperandTypes { get; init; }

    /// <summary>int16 operands may have any zero point (QUANTIZE requantizes with it); elsewhere int16 is symmetric.</summary>
    public bool AnyInt16ZeroPoint { get; init; }

    /// <summary>False where TFLite refuses a fused activation in the options (CONCATENATION).</summary>
    public bool AcceptsFusedActivation { get; init; } = true;

    /// <summary>Reads the operator's options and operands (see <see cref="OperandReader"/>): its attributes and
    /// its node inputs in the IR's order.</summary>
    internal Func<OperandReader, (OpAttributes Attributes, Tensor?[] Inputs)> Import { get; init; } = null!;

    /// <summary>The output shape from the inputs and attributes, checking what the arithmetic depends on.</summary>
    internal Func<ShapeContext, int[]> InferShape { get; init; } = null!;

    /// <summary>Operators with several outputs (SPLIT, UNPACK): every output's shape, in order; <see cref="InferShape"/>
    /// is then the first one's. Null for one-output operators (the importer refuses a second output).</summary>
    internal Func<ShapeContext, int[][]>? InferShapes { get; init; }

    /// <summary>Type rule other than "main input in <see cref="Types"/>, output of the same type": null when the
    /// node's types are accepted, else what is wrong ("converts int8 to int32").</summary>
    internal Func<Node, string?>? CheckTypes { get; init; }

    /// <summary>Checks every operand's type, constness and quantization itself, instead of the common rules (operators
    /// whose many operands have different types: UNIDIRECTIONAL_SEQUENCE_LSTM).</summary>
    internal Action<Node, Func<string, string, CompilerException>>? CheckOperands { get; init; }

    /// <summary>Checks beyond the common quantization rules (which run first).</summary>
    internal Action<Node, Func<string, string, CompilerException>>? CheckQuantization { get; init; }

    /// <summary>An int16 output that may have a zero point other than 0 (int8 to int16 SOFTMAX).</summary>
    internal Func<Node, bool>? AsymmetricInt16Output { get; init; }

    /// <summary>Multiply-accumulates, counted as the MLPerf Tiny model cards do (see <see cref="Analysis.GraphStats"/>).</summary>
    internal Func<Node, long> Macs { get; init; } = _ => 0;

    /// <summary>The reference implementation: TFLite Micro's arithmetic on the host (<see cref="ReferenceEvaluator"/>).</summary>
    internal Action<Node, TensorValues> Evaluate { get; init; } = null!;

    /// <summary>The portable C kernel (DSP and Helium kernels, where there are any, are asked first: <see cref="KernelRegistry"/>).</summary>
    internal Kernel Kernel { get; init; } = null!;

    public override string ToString() => Name;

    private static IReadOnlyList<OpKind>? _all;
    private static Dictionary<int, OpKind>? _byBuiltinCode;

    /// <summary>Every operator, by name.</summary>
    public static IReadOnlyList<OpKind> All => _all ??= Discover();

    /// <summary>The operator with TFLite builtin code <paramref name="code"/>, or null.</summary>
    public static OpKind? ForBuiltinCode(int code) =>
        (_byBuiltinCode ??= All.ToDictionary(k => k.BuiltinCode)).GetValueOrDefault(code);

    private static OpKind[] Discover()
    {
        var kinds = typeof(OpKind).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(OpKind))
            .Select(f => (OpKind)f.GetValue(null)!)
            .OrderBy(k => k.Name, StringComparer.Ordinal)
            .ToArray();
        foreach (var kind in kinds)
            if (kind.Import is null || kind.InferShape is null || kind.Evaluate is null || kind.Kernel is null)
                throw new InvalidOperationException($"operator {kind.Name} is registered without an importer, shape rule, reference implementation or kernel");
        foreach (var duplicate in kinds.GroupBy(k => k.BuiltinCode).Where(g => g.Count() > 1))
            throw new InvalidOperationException($"builtin code {duplicate.Key} is registered twice ({string.Join(", ", duplicate)})");
        return kinds;
    }
}
