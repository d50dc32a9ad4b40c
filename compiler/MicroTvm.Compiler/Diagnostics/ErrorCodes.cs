namespace MicroTvm.Compiler.Diagnostics;

/// <summary>
/// Error codes of the compiler. MTVM1xxx: reading and checking a model; MTVM2xxx: compiling it.
/// Each code is documented once, in docs/errors.md.
/// </summary>
public static class ErrorCodes
{
    /// <summary>The model file cannot be read (missing, unreadable, too large).</summary>
    public const string ModelFileUnreadable = "MTVM1001";

    /// <summary>The file is not a well-formed FlatBuffer: truncated, or an offset, length or vtable entry points outside it.</summary>
    public const string MalformedModel = "MTVM1002";

    /// <summary>The file is not a TFLite model this compiler reads: wrong file identifier or schema version, no subgraph.</summary>
    public const string NotATfliteModel = "MTVM1003";

    /// <summary>The model uses an operator the compiler does not support (builtin or custom).</summary>
    public const string UnsupportedOperator = "MTVM1004";

    /// <summary>An operator is used with an element type (or combination of types) the compiler does not support for it.</summary>
    public const string UnsupportedElementType = "MTVM1005";

    /// <summary>The operator graph is inconsistent: dangling or cyclic tensor references, a tensor written twice.</summary>
    public const string InvalidGraph = "MTVM1006";

    /// <summary>A tensor's shape is invalid: negative or dynamic dimensions, a size that overflows, or a declared shape that disagrees with the inferred one.</summary>
    public const string InvalidShape = "MTVM1007";

    /// <summary>An operator's options or operands are invalid: wrong operand count, bad stride/dilation/axis, a non-constant operand that must be constant.</summary>
    public const string InvalidOperator = "MTVM1008";

    /// <summary>A tensor's quantization parameters are invalid or missing where the operator needs them.</summary>
    public const string InvalidQuantization = "MTVM1009";

    /// <summary>A tensor's constant data is invalid: buffer index out of range, data outside the file, size not matching the shape.</summary>
    public const string InvalidConstantData = "MTVM1010";

    /// <summary>The model uses a TFLite feature the compiler does not support (sparse or variable tensors, shuffled weights, custom quantization).</summary>
    public const string UnsupportedFeature = "MTVM1011";

    /// <summary>An output file or directory (of <c>microtvm run</c>) cannot be written.</summary>
    public const string OutputUnwritable = "MTVM1012";

    /// <summary>The flags that compile the generated C (the board's MicroTvmCpuFlags) do not build for the model's CPU.</summary>
    public const string GccFlagsMismatch = "MTVM1013";

    /// <summary>FLOOR_DIV or FLOOR_MOD has a constant divisor with a zero element (TFLite Micro refuses to divide by zero).</summary>
    public const string ConstantDivisorZero = "MTVM1070";

    /// <summary>A custom operator implementation is given wrongly: a name with no C function in it, twice, or a scratch size out of range.</summary>
    public const string InvalidCustomOperator = "MTVM1090";

    /// <summary>The reference evaluator cannot run a custom operator: its implementation is the project's C code.</summary>
    public const string CustomOperatorNotEvaluable = "MTVM1091";

    /// <summary>A custom operator's output shape is not known before the model runs (dynamic in the shape signature).</summary>
    public const string CustomOperatorDynamicShape = "MTVM1092";

    /// <summary><c>compile --format library</c>: gcc or ar for the library's prebuilt archive is not on PATH or in --toolchain.</summary>
    public const string LibraryToolNotFound = "MTVM3180";

    /// <summary><c>compile --format library</c>: gcc or ar failed building the prebuilt archive (its output is in the message).</summary>
    public const string LibraryToolFailed = "MTVM3181";

    /// <summary><c>compile --format library</c>: a --custom-op-source file is missing, or two have the same file name.</summary>
    public const string LibraryOperatorSource = "MTVM3160";

    /// <summary>A bug in the compiler (an unexpected exception while reading a model). Please report it with the model.</summary>
    public const string InternalError = "MTVM1999";

    /// <summary>An operator is used with element types (or a fused activation) the compiler does not implement.</summary>
    public const string UnsupportedOperatorType = "MTVM2001";

    /// <summary>Input data given to the reference evaluator does not match the graph's inputs (count or byte size).</summary>
    public const string InvalidInputData = "MTVM2002";

    /// <summary>A requantization that a tensor's scale implies cannot be computed by the fixed-point arithmetic (a
    /// multiplier of 2^31 or more, a shift out of range, an infinite or undefined ratio).</summary>
    public const string QuantizationOutOfRange = "MTVM2010";

    /// <summary>An index the evaluator read from a tensor at run time (GATHER, GATHER_ND) lies outside the input; the
    /// generated C returns -2 from its run instead of reading out of bounds.</summary>
    public const string IndexOutOfRange = "MTVM2070";

    // MTVM21xx: code generation and memory planning (MTVM20xx belongs to the reference evaluator).

    /// <summary>The target name is not one of <see cref="Codegen.Targets.All"/>.</summary>
    public const string UnknownTarget = "MTVM2101";

    /// <summary>The code generator has no kernel for this operator with these element types or attributes.</summary>
    public const string UnsupportedOperatorCodegen = "MTVM2102";

    /// <summary>The model name cannot be turned into a C identifier prefix.</summary>
    public const string InvalidModelName = "MTVM2103";

    /// <summary>A constant cannot be written as C data (e.g. a float weight that is infinite or NaN).</summary>
    public const string UnrepresentableConstant = "MTVM2104";

    // MTVM50xx: tuning (docs/tuning.md).

    /// <summary>A tuning log is not JSON of the log's shape (the message gives the line or the entry).</summary>
    public const string TuningLogMalformed = "MTVM5000";

    /// <summary>A tuning log has a format version this compiler does not read.</summary>
    public const string TuningLogVersion = "MTVM5001";

    /// <summary>Warning: a tuning log entry was measured with another kernel set version (stale); it is ignored.</summary>
    public const string TuningLogStale = "MTVM5002";

    /// <summary>Warning: a tuning log holds no entry for the model's CPU (tuned for another one); defaults are used.</summary>
    public const string TuningLogOtherCpu = "MTVM5003";

    /// <summary>Warning: a tuning log entry's schedule does not fit the operator's kernel (another kernel, an unknown knob
    /// or value); the default schedule is used for that operator.</summary>
    public const string TuningScheduleMismatch = "MTVM5004";

    /// <summary>A tuning log file cannot be read.</summary>
    public const string TuningLogUnreadable = "MTVM5005";

    /// <summary>microtvm tune was given an argument it cannot use (budget or repeats below 1, a board with no CPU).</summary>
    public const string TuneArgument = "MTVM5010";

    /// <summary>A tuning candidate's output on the device differs from the reference evaluator (a code-generation bug).</summary>
    public const string TuneCandidateDiffers = "MTVM5011";
    public const string TuneWeightsBudget = "MTVM5020";

    /// <summary>microtvm tune: no schedule set the tuner tried makes the model's firmware fit the board's flash.</summary>
    public const string TuneNoSetFits = "MTVM5040";

    /// <summary>microtvm tune --port with an emulated board.</summary>
    public const string TunePortOnEmulatedBoard = "MTVM5041";

    /// <summary>microtvm tune --reserve-flash: the reserve leaves no flash for the model's weights on the board.</summary>
    public const string TuneReserveFlash = "MTVM5050";

    /// <summary>microtvm tune --firmware-flash without a readable --firmware-metadata (the model's .json with weightsBytes).</summary>
    public const string TuneFirmwareMetadata = "MTVM5060";
}
