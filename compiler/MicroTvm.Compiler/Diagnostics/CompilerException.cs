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

    /// <summary>Same error, attributed to <paramref name="file"/> when it was not yet.</summary>
    public CompilerException WithFile(string file) => File is not null ? this : new CompilerException(Code, Message, InnerException)
    {
        File = file,
        OperatorIndex = OperatorIndex,
        OperatorName = OperatorName,
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
