namespace MicroTvm.Compiler.Diagnostics;

/// <summary>
/// Error codes of the compiler. MTVM1xxx: reading and checking a model; MTVM2xxx: compiling it.
/// Each code is documented once, in docs/errors.md.
/// </summary>
public static class ErrorCodes
{
    /// <summary>The operator graph is inconsistent: dangling or cyclic tensor references, a tensor written twice.</summary>
    public const string InvalidGraph = "MTVM1006";
}
