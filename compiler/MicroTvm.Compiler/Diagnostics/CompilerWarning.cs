namespace MicroTvm.Compiler.Diagnostics;

/// <summary>A problem that does not stop compilation (a stale tuning log entry, …): code, message, file.</summary>
public sealed record CompilerWarning(string Code, string Message, string? File)
{
    public override string ToString() => $"{File}: warning {Code}: {Message}";
}
