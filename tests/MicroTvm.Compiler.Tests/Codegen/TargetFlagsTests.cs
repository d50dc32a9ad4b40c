using System.Text.RegularExpressions;
using MicroTvm.Compiler.Codegen;
using static MicroTvm.Compiler.Tests.Cli.CliRunner;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>The CPU a model is compiled for and the gcc flags that compile its C agree (MTVM1013), for every board
/// of the catalog and for flags given by hand.</summary>
public class TargetFlagsTests
{
    private static readonly string Boards = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(TestModels.Root))!, "templates", "firmware", "boards");

    public static IEnumerable<object[]> CatalogBoards() =>
        Directory.GetFiles(Boards, "board.props", SearchOption.AllDirectories).Order().Select(p => new object[] { Path.GetFileName(Path.GetDirectoryName(p))! });

    private static string Property(string props, string name) =>
        Regex.Match(props, $@"<{name}[^>]*>([^<]*)</{name}>") is { Success: true } m ? m.Groups[1].Value.Trim() : "";

    [Theory]
    [MemberData(nameof(CatalogBoards))]
    public void Every_catalog_boards_flags_build_for_its_cpu(string board)
    {
        string props = File.ReadAllText(Path.Combine(Boards, board, "board.props"));
        string cpu = Property(props, "MicroTvmCpu"), flags = Property(props, "MicroTvmCpuFlags");
        Assert.False(cpu.Length == 0 || flags.Length == 0, $"{board}: MicroTvmCpu '{cpu}', MicroTvmCpuFlags '{flags}'");
        Assert.Null(Targets.Find(cpu).CheckGccFlags(flags));
    }

    [Theory]
    [InlineData("cortex-m7", "-mcpu=cortex-m7 -mthumb -mfpu=fpv5-sp-d16 -mfloat-abi=hard", null)] // nucleo-f746zg: same FPU family
    [InlineData("cortex-m7", "-mcpu=cortex-m7 -mthumb -mfpu=fpv5-d16 -mfloat-abi=softfp", null)]
    [InlineData("cortex-m55", "-mcpu=cortex-m55+nomve.fp -mthumb -mfloat-abi=hard", null)]
    [InlineData("cortex-m7", "-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard", "they select -mcpu=cortex-m4, not cortex-m7")]
    [InlineData("cortex-m7", "-mthumb -mfloat-abi=hard", "they select no CPU; cortex-m7 needs -mcpu=cortex-m7")]
    [InlineData("cortex-m33", "-mcpu=cortex-m33+nodsp -mthumb -mfpu=fpv5-sp-d16 -mfloat-abi=hard", "-mcpu=cortex-m33+nodsp removes the DSP instructions the cortex-m33 kernels use")]
    [InlineData("cortex-m55", "-mcpu=cortex-m55+nomve -mthumb -mfloat-abi=hard", "-mcpu=cortex-m55+nomve removes the MVE (Helium) instructions the cortex-m55 kernels use")]
    [InlineData("cortex-m4", "-mcpu=cortex-m4 -mthumb -mfpu=fpv5-d16 -mfloat-abi=hard", "they select FPU fpv5-d16, not one of the fpv4-sp-d16 family")]
    [InlineData("cortex-m4", "-mcpu=cortex-m4 -mthumb -mfloat-abi=soft", "they select float ABI soft, not hard")]
    [InlineData("cortex-m3", "-mcpu=cortex-m3 -mthumb -mfloat-abi=soft -mcpu=cortex-m0plus", "they select -mcpu=cortex-m0plus, not cortex-m3")] // gcc takes the last
    public void Flags_agree_on_cpu_fpu_family_and_float_abi(string target, string flags, string? problem) =>
        Assert.Equal(problem, Targets.Find(target).CheckGccFlags(flags));

    [Fact]
    public void Compile_refuses_flags_for_another_cpu_with_MTVM1013()
    {
        string output = Path.Combine(Path.GetTempPath(), $"microtvm-flags-{Guid.NewGuid():N}");
        try
        {
            var (exit, _, error) = Run("compile", TestModels.ModelPath("hello_world_int8"), "--target", "cortex-m7", "-o", output,
                "--gcc-flags=-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard");
            Assert.Equal(1, exit);
            Assert.Contains("error MTVM1013: the C compiler flags '-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard' do not build for cortex-m7: they select -mcpu=cortex-m4, not cortex-m7", error);
            Assert.False(Directory.Exists(output) && Directory.EnumerateFiles(output).Any());

            (exit, _, error) = Run("compile", TestModels.ModelPath("hello_world_int8"), "--target", "cortex-m7", "-o", output,
                "--gcc-flags=-mcpu=cortex-m7 -mthumb -mfpu=fpv5-sp-d16 -mfloat-abi=hard");
            Assert.True(exit == 0, error);
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void Targets_lists_each_target_and_its_flags()
    {
        var (exit, output, _) = Run("targets");
        Assert.Equal(0, exit);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal(Targets.All.Select(t => $"{t.Name}\t{t.GccFlags}"), lines);
    }
}
