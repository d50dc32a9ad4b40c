using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Planning;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// Generates the C for one kind of operator. A kernel is asked first whether it supports a node (types,
/// attributes); then it writes the body of <c>static void op&lt;index&gt;_&lt;kind&gt;(…)</c>, whose parameters are
/// the node's non-constant inputs (<c>in&lt;i&gt;</c>, const) and its outputs (<c>out&lt;j&gt;</c>).
/// </summary>
internal abstract class Kernel
{
    /// <summary>Null when the node is supported; otherwise what is missing, for the error message.</summary>
    public abstract string? Unsupported(Node node);

    public abstract void Emit(EmitContext context);

    /// <summary>The function returns an int status (a custom operator's; an index read at run time that lies outside
    /// its input): non-zero ends <c>&lt;name&gt;_run</c> with -2.</summary>
    public virtual bool ReturnsStatus(Node node) => false;

    /// <summary>The output is the first input's bytes, reinterpreted: no function, no copy.</summary>
    public virtual bool IsAlias(Node node) => false;

    /// <summary>The kernel reads element i of input <paramref name="inputIndex"/> before it writes element i of the
    /// output and never reads an element it has written, so the two may share memory.</summary>
    public virtual bool CanWriteOver(Node node, int inputIndex) => false;

    /// <summary>Bytes of working memory the kernel needs while it runs (gathered columns, accumulators): the memory
    /// planner places them in the workspace for this operator's step only, and the function gets them as
    /// <c>scratch</c> (aligned to <see cref="ScratchAlignment"/> and the workspace alignment). No kernel keeps more than a few words on the stack.</summary>
    public virtual long ScratchBytes(Node node) => 0;

    /// <summary>Larger scratch sizes the kernel runs faster with, best first: the compiler grants the first that does
    /// not raise the workspace (<see cref="KernelSelection.GrantScratchWishes"/>) and the kernel reads what it got from
    /// <see cref="EmitContext.ScratchBytes"/>.</summary>
    public virtual IReadOnlyList<long> ScratchWishes(Node node) => [];

    /// <summary>The bytes the kernel uses out of a grant of <paramref name="granted"/> (at least <see cref="ScratchBytes"/>):
    /// what the plan keeps for the operator, the model's JSON reports and <see cref="EmitContext.ScratchBytes"/> says.</summary>
    public virtual long ScratchUsed(Node node, long granted) => ScratchBytes(node);

    /// <summary>The alignment the scratch's widest element needs (8 for int64 accumulators); the workspace alignment
    /// when larger.</summary>
    public virtual int ScratchAlignment(Node node) => 1;
}

/// <summary>Everything a kernel needs while it writes one operator.</summary>
internal sealed class EmitContext
{
    public EmitContext(Node node, string function, ConstantPool constants, SupportLibrary support, MemoryPlan plan)
    {
        Node = node;
        Function = function;
        Constants = constants;
        Support = support;
        Plan = plan;
    }

    public Node Node { get; }

    public string Function { get; }

    public ConstantPool Constants { get; }

    public SupportLibrary Support { get; }

    public MemoryPlan Plan { get; }

    /// <summary>The scratch the plan gives this operator (<see cref="Kernel.ScratchBytes"/>, or what it uses of a granted wish).</summary>
    public long ScratchBytes { get; init; }

    /// <summary>The function body (the framework writes signature and braces).</summary>
    public CodeWriter Body { get; } = new();

    /// <summary>Prefix for this operator's constant arrays.</summary>
    public string Prefix => $"op{Node.Index}";

    private readonly Dictionary<int, string> _constantInputs = new();

    /// <summary>The C expression that points at input <paramref name="i"/>: the parameter, or for a constant input its
    /// data as a static const array.</summary>
    public string Input(int i)
    {
        var tensor = Node.Input(i);
        if (!tensor.IsConstant) return $"in{i}";
        if (!_constantInputs.TryGetValue(i, out var name))
            _constantInputs[i] = name = Constants.Tensor($"{Prefix}_input{i}", tensor, $"operator {Node.Index} input {i}: {tensor.Name} {tensor.Type.DisplayName()}{tensor.ShapeText}");
        return name;
    }

    public string Output(int j = 0) => $"out{j}";
}
