using MicroTvm.Compiler.Diagnostics;

namespace MicroTvm.Compiler.Codegen;

/// <summary>
/// What the code generator needs to know about a CPU: the gcc flags that select it, the alignment activations
/// get inside the workspace, and which SIMD extensions exist (for target-specific kernels; every target also has
/// the portable C path; each node's kernel is chosen once, in KernelSelection).
/// </summary>
/// <param name="Name">The name users write (<c>Target="cortex-m7"</c>).</param>
/// <param name="GccFlags">arm-none-eabi-gcc flags selecting the CPU and its FPU/ABI; empty for the host.</param>
/// <param name="Alignment">Byte alignment of every workspace offset (and of the workspace itself).</param>
/// <param name="HasDsp">Armv7E-M/Armv8-M DSP extension (SMLAD and friends).</param>
/// <param name="HasMve">Armv8.1-M M-profile vector extension (Helium).</param>
public sealed record TargetDescription(string Name, string GccFlags, int Alignment, bool HasDsp, bool HasMve)
{
    /// <summary>The single-precision FPU's generation the float kernels may use: 0 none (soft float; the host runs
    /// portable C), 4 FPv4 (Cortex-M4), 5 FPv5 or Armv8-M FP (VCVTA, VMAXNM: Cortex-M7, M33, M55). A board's flags may
    /// pick the single-precision variant of the family (<see cref="CheckGccFlags"/>), which has the same instructions.</summary>
    public int FpuVersion => Name switch { "cortex-m4" => 4, "cortex-m7" or "cortex-m33" or "cortex-m55" => 5, _ => 0 };

    /// <summary>
    /// Null when <paramref name="flags"/> (a board's <c>MicroTvmCpuFlags</c>, which compile the generated C) build
    /// for this CPU as the generated C assumes, else what differs: the same <c>-mcpu</c> (an extension may not remove
    /// the DSP or MVE instructions the kernels use), the same FPU family (fpv4, fpv5: a board may choose the
    /// single-precision variant of the family, as the STM32F746's fpv5-sp-d16 on a Cortex-M7) and the same float ABI
    /// class (soft, or hard/softfp). The host target takes any flags.
    /// </summary>
    public string? CheckGccFlags(string flags)
    {
        if (GccFlags.Length == 0) return null;
        string cpu = Option(GccFlags, "-mcpu=")!;
        if (Option(flags, "-mcpu=") is not { } boardCpu) return $"they select no CPU; {Name} needs -mcpu={cpu}";
        var parts = boardCpu.Split('+');
        if (!parts[0].Equals(cpu, StringComparison.OrdinalIgnoreCase)) return $"they select -mcpu={boardCpu}, not {cpu}";
        if (HasDsp && parts.Contains("nodsp", StringComparer.OrdinalIgnoreCase)) return $"-mcpu={boardCpu} removes the DSP instructions the {Name} kernels use";
        if (HasMve && parts.Contains("nomve", StringComparer.OrdinalIgnoreCase)) return $"-mcpu={boardCpu} removes the MVE (Helium) instructions the {Name} kernels use";
        string AbiClass(string text) => Option(text, "-mfloat-abi=") is null or "soft" ? "soft" : "hard";
        if (AbiClass(flags) != AbiClass(GccFlags))
            return $"they select float ABI {Option(flags, "-mfloat-abi=") ?? "soft"}, not {Option(GccFlags, "-mfloat-abi=") ?? "soft"}";
        string FpuFamily(string text) => Option(text, "-mfpu=") is { } fpu && fpu != "auto" ? fpu.Split('-')[0] : "auto";
        if (AbiClass(flags) == "hard" && FpuFamily(flags) != FpuFamily(GccFlags))
            return $"they select FPU {Option(flags, "-mfpu=") ?? "auto"}, not one of the {Option(GccFlags, "-mfpu=") ?? "auto"} family";
        return null;
    }

    /// <summary>The value of the last <paramref name="prefix"/> option (gcc takes the last one), or null.</summary>
    private static string? Option(string flags, string prefix) =>
        flags.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(f => f.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..];
}

/// <summary>The one list of targets.</summary>
public static class Targets
{
    public static IReadOnlyList<TargetDescription> All { get; } = new[]
    {
        new TargetDescription("cortex-m0plus", "-mcpu=cortex-m0plus -mthumb -mfloat-abi=soft", 4, HasDsp: false, HasMve: false),
        new TargetDescription("cortex-m3", "-mcpu=cortex-m3 -mthumb -mfloat-abi=soft", 4, HasDsp: false, HasMve: false),
        new TargetDescription("cortex-m4", "-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard", 4, HasDsp: true, HasMve: false),
        new TargetDescription("cortex-m7", "-mcpu=cortex-m7 -mthumb -mfpu=fpv5-d16 -mfloat-abi=hard", 8, HasDsp: true, HasMve: false),
        new TargetDescription("cortex-m33", "-mcpu=cortex-m33 -mthumb -mfpu=fpv5-sp-d16 -mfloat-abi=hard", 4, HasDsp: true, HasMve: false),
        new TargetDescription("cortex-m55", "-mcpu=cortex-m55 -mthumb -mfloat-abi=hard", 16, HasDsp: true, HasMve: true),
        new TargetDescription("host", "", 16, HasDsp: false, HasMve: false),
    };

    public static TargetDescription Find(string name) =>
        All.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new CompilerException(ErrorCodes.UnknownTarget,
            $"unknown target '{name}'; supported targets: {string.Join(", ", All.Select(t => t.Name))}");
}
