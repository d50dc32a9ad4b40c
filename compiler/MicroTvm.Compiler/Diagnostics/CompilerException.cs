using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Diagnostics;

/// <summary>
/// The one way the compiler reports a problem with its input: a stable code (see <see cref="ErrorCodes"/>), a
/// message a person can act on, and where known the model file and the operator. Callers (the CLI, the MSBuild
/// task) turn it into their own diagnostic format; anything else escaping the compiler is a bug. The message is
/// always one line without control characters (<see cref="UntrustedText.ForDisplay"/>): names from the model
/// cannot forge a second diagnostic or drive the terminal.
/// </summary>
public sealed class CompilerException : Exception
{
    public CompilerException(string code, string message, Exception? inner = null) : base(UntrustedText.ForDisplay(message), inner)
    {
        Code = code;
    }

    public string Code { get; }

    public string? File { get; init; }

    /// <summary>Index of the operator in the source model, when the problem belongs to one.</summary>
    public int? OperatorIndex { get; init; }

    /// <summary>TFLite name of that operator (CONV_2D, …).</summary>
    public string? OperatorName { get; init; }

    /// <summary>The errors found in the same pass after this one (every unsupported operator of a model, not only the
    /// first): a user fixes them all before the next build. Empty for a single error.</summary>
    public IReadOnlyList<CompilerException> Others { get; private init; } = Array.Empty<CompilerException>();

    /// <summary>This error followed by <see cref="Others"/>.</summary>
    public IEnumerable<CompilerException> All => Others.Prepend(this);

    /// <summary>One exception for the errors of a pass: the first, carrying the rest.</summary>
    public static CompilerException Combine(IReadOnlyList<CompilerException> errors) =>
        errors.Count == 1 ? errors[0] : new CompilerException(errors[0].Code, errors[0].Message, errors[0].InnerException)
        {
            File = errors[0].File,
            OperatorIndex = errors[0].OperatorIndex,
            OperatorName = errors[0].OperatorName,
            Others = errors.Skip(1).ToArray(),
        };

    /// <summary>Same error, attributed to <paramref name="file"/> when it was not yet.</summary>
    public CompilerException WithFile(string file) => File is not null && Others.All(e => e.File is not null) ? this : new CompilerException(Code, Message, InnerException)
    {
        File = File ?? file,
        OperatorIndex = OperatorIndex,
        OperatorName = OperatorName,
        Others = Others.Select(e => e.WithFile(file)).ToArray(),
    };

    /// <summary>Same error, attributed to <paramref name="node"/> ("operator 3 (CONV_2D): message") when it names no operator yet.</summary>
    public CompilerException ForOperator(Node node, string? file) => OperatorIndex is not null ? this : new CompilerException(Code, $"{node}: {Message}", this)
    {
        File = File ?? file,
        OperatorIndex = node.Index,
        OperatorName = node.Kind.Name,
    };

    /// <summary>"file: error CODE: message", the canonical form tools and IDEs parse.</summary>
    public override string ToString() => $"{File ?? "<model>"}: error {Code}: {Message}";
}
