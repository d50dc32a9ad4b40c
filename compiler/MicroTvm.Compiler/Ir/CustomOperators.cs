using System.Globalization;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Diagnostics;

namespace MicroTvm.Compiler.Ir;

/// <summary>A custom operator whose C implementation the project supplies (docs/generated-c.md, "Custom operators").</summary>
/// <param name="Name">The model's custom_code for it (TFLite OperatorCode.custom_code).</param>
/// <param name="ScratchBytes">Working memory the implementation needs while it runs, placed by the workspace plan.</param>
public sealed record CustomOperator(string Name, long ScratchBytes = 0)
{
    /// <summary>The most scratch one custom operator may ask for (1 GiB: more is a typo, not a microcontroller).</summary>
    public const long MaxScratchBytes = 1L << 30;

    /// <summary>The C function that implements it: the name with characters other than letters, digits and '_' made '_'.</summary>
    public string Function => CIdentifiers.From(Name);

    /// <summary>"Name" or "Name:ScratchBytes" (the command line's --custom-op); the last ':' followed by digits splits.</summary>
    public static CustomOperator Parse(string text)
    {
        int colon = text.LastIndexOf(':');
        if (colon > 0 && colon < text.Length - 1 && text[(colon + 1)..].All(char.IsAsciiDigit))
        {
            if (!long.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out long scratch) || scratch > MaxScratchBytes)
                throw new CompilerException(ErrorCodes.InvalidCustomOperator, $"custom operator '{text}': scratch bytes must be at most {MaxScratchBytes}");
            return new CustomOperator(text[..colon], scratch);
        }

        return new CustomOperator(text);
    }
}

/// <summary>
/// The custom operators a compilation may use, by custom code: the one place that decides whether a model's custom
/// operator is accepted (<see cref="Tflite.TfliteImporter"/>). <see cref="None"/>: every custom operator is refused
/// (MTVM1004, saying how to supply it); <see cref="WithoutImplementation"/>: every one is imported, for tools that only
/// read or evaluate a model (the reference evaluator then refuses them, MTVM1091).
/// </summary>
public sealed class CustomOperators
{
    private readonly Dictionary<string, CustomOperator> _byName;
    private readonly bool _acceptsAny;

    public CustomOperators(IEnumerable<CustomOperator> operators, string? projectFile = null)
    {
        _byName = new Dictionary<string, CustomOperator>(StringComparer.Ordinal);
        var byFunction = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var op in operators)
        {
            if (!CIdentifiers.IsValid(op.Function))
                throw new CompilerException(ErrorCodes.InvalidCustomOperator, $"custom operator '{op.Name}' has no letter or digit to name its C function after");
            if (op.ScratchBytes is < 0 or > CustomOperator.MaxScratchBytes)
                throw new CompilerException(ErrorCodes.InvalidCustomOperator, $"custom operator '{op.Name}': scratch bytes {op.ScratchBytes} must be 0 to {CustomOperator.MaxScratchBytes}");
            if (_byName.ContainsKey(op.Name))
                throw new CompilerException(ErrorCodes.InvalidCustomOperator, $"custom operator '{op.Name}' is given twice");
            if (byFunction.TryGetValue(op.Function, out var other))
                throw new CompilerException(ErrorCodes.InvalidCustomOperator, $"custom operators '{other}' and '{op.Name}' would both be the C function {op.Function}");
            byFunction[op.Function] = op.Name;
            _byName[op.Name] = op;
        }

        ProjectFile = projectFile;
    }

    private CustomOperators(bool acceptsAny) : this(Array.Empty<CustomOperator>()) => _acceptsAny = acceptsAny;

    /// <summary>No custom operator has an implementation.</summary>
    public static CustomOperators None { get; } = new(false);

    /// <summary>Every custom operator is imported without an implementation (inspecting or evaluating a model).</summary>
    public static CustomOperators WithoutImplementation { get; } = new(true);

    /// <summary>The project that supplies the implementations, named in the message of a missing one.</summary>
    public string? ProjectFile { get; }

    public IReadOnlyCollection<CustomOperator> All => _byName.Values;

    /// <summary>The implementation of custom code <paramref name="name"/>, null when there is none.</summary>
    public CustomOperator? Find(string name) =>
        _byName.TryGetValue(name, out var op) ? op : _acceptsAny ? new CustomOperator(name) : null;

    /// <summary>What a user does about a custom operator without implementation.</summary>
    public string HowToSupply(string name)
    {
        var op = new CustomOperator(name);
        string function = CIdentifiers.IsValid(op.Function) ? op.Function : "<function>";
        return $"supply its C implementation, int {function}(const microtvm_custom_op* op) (docs/generated-c.md): "
            + $"add <MicroModelOperator Include=\"{function.ToLowerInvariant()}.c\" Name=\"{name}\" /> to {(ProjectFile is null ? "the firmware project" : Path.GetFileName(ProjectFile))}"
            + $", or pass --custom-op {name} to microtvm compile and compile that C file with the model's";
    }
}
