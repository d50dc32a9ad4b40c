using System.Diagnostics;
using MicroTvm.Cli;
using MicroTvm.Compiler.Tests.Frontend;
using static MicroTvm.Compiler.Tests.Cli.CliRunner;

namespace MicroTvm.Compiler.Tests.Cli;

public class CliTests
{
    [Fact]
    public void InspectKws()
    {
        var (exit, output, error) = Run("inspect", TestModels.ModelPath("kws_dscnn"));
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        var lines = output.Split('\n');
        Assert.Equal(5, lines.Count(l => l.Contains(" CONV_2D ")));
        Assert.Equal(4, lines.Count(l => l.Contains(" DEPTHWISE_CONV_2D ")));
        Assert.Contains(lines, l => l.Contains(" CONV_2D ") && l.Contains("int8[64,10,4,1] per-ch") && l.TrimEnd().EndsWith("320,000"));
        Assert.Matches(@"MACs:\s+2,656,768", output);
        Assert.Matches(@"activation lower bound:\s+16,000 bytes", output);
        Assert.Matches(@"parameter bytes:\s+[0-9,]+", output);
        Assert.Contains("input  t0 'input_1' int8[1,49,10,1] scale 0.584703 zp 83", output);
    }

    [Fact]
    public void InspectBadModelPrintsOneErrorLine()
    {
        string path = Path.Combine(Path.GetTempPath(), $"microtvm-cli-{Guid.NewGuid():N}.tflite");
        File.WriteAllBytes(path, File.ReadAllBytes(TestModels.ModelPath("kws_dscnn"))[..1000]);
        try
        {
            var (exit, output, error) = Run("inspect", path);
            Assert.Equal(1, exit);
            Assert.Equal("", output);
            Assert.StartsWith($"{path}: error MTVM1002: ", error);
            Assert.Single(error.TrimEnd().Split('\n'));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>POW (schema value 78): TFLite Micro has no kernel for it, so neither do we.</summary>
    private const int Pow = 78;

    [Fact]
    public void InspectUnsupportedOperatorNamesItsIndex()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", Ir.ElementType.Float32, new[] { 4 });
        int y = b.AddTensor("y", Ir.ElementType.Float32, new[] { 4 });
        b.AddOperator(Pow, new[] { x, x }, new[] { y });
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        string path = Path.Combine(Path.GetTempPath(), $"microtvm-cli-{Guid.NewGuid():N}.tflite");
        File.WriteAllBytes(path, b.Build());
        try
        {
            var (exit, _, error) = Run("inspect", path);
            Assert.Equal(1, exit);
            Assert.StartsWith($"{path}: error MTVM1004: operator 0 (POW): POW is not supported. Supported operators: ", error);
            Assert.Contains("ABS, ADD, ", error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A model the compiler rejects is still shown, operator by operator, with every operator it cannot take marked.</summary>
    [Fact]
    public void InspectShowsWhatItCanReadOfAModelItCannotCompile()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", Ir.ElementType.Float32, new[] { 1, 4 });
        int h = b.AddTensor("h", Ir.ElementType.Float32, new[] { 1, 4 });
        int r = b.AddTensor("r", Ir.ElementType.Float32, new[] { 1, 4 });
        int y = b.AddTensor("y", Ir.ElementType.Float32, new[] { 1, 4 });
        b.AddOperator(Pow, new[] { x, x }, new[] { h });
        b.AddOperator(TfliteModelBuilder.Builtin.Relu, new[] { h }, new[] { r });
        b.AddOperator(TfliteModelBuilder.Builtin.Custom, new[] { r }, new[] { y }, customCode: "VendorOp");
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        string path = Path.Combine(Path.GetTempPath(), $"microtvm-cli-{Guid.NewGuid():N}.tflite");
        File.WriteAllBytes(path, b.Build());
        try
        {
            var (exit, output, error) = Run("inspect", path);
            Assert.Equal(1, exit);
            var lines = output.Split('\n');
            Assert.Contains(lines, l => l.Contains(" POW ") && l.Contains("float32[1,4], float32[1,4]") && l.TrimEnd().EndsWith("error MTVM1004"));
            Assert.Contains(lines, l => l.Contains(" RELU ") && l.TrimEnd().EndsWith("ok"));
            Assert.Contains(lines, l => l.Contains("VendorOp") && l.TrimEnd().EndsWith("error MTVM1004"));
            Assert.Contains("2 of 3 operators cannot be compiled:", output);
            Assert.Contains("operator 2 (custom operator 'VendorOp'): ", output);
            Assert.StartsWith($"{path}: error MTVM1004: operator 0 (POW): ", error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void RunWritesOutputsEqualToTflm()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"microtvm-cli-{Guid.NewGuid():N}");
        try
        {
            var folder = TestModels.Folder("ic_resnet8");
            var (exit, output, error) = Run("run", TestModels.ModelPath("ic_resnet8"), "--input", Path.Combine(folder, "input1.bin"), "-o", dir, "--all-tensors");
            Assert.Equal("", error);
            Assert.Equal(0, exit);
            Assert.Equal(File.ReadAllBytes(Path.Combine(folder, "output1.bin")), File.ReadAllBytes(Path.Combine(dir, "output0.bin")));
            Assert.Contains("output0.bin", output);
            Assert.True(File.Exists(Path.Combine(dir, "t0.bin")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void RunWithWrongInputSizeWritesNothing()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"microtvm-cli-{Guid.NewGuid():N}");
        var (exit, _, error) = Run("run", TestModels.ModelPath("kws_dscnn"), "--input", TestModels.ModelPath("hello_world_int8"), "-o", dir);
        Assert.Equal(1, exit);
        // The error names the input file whose size is wrong.
        Assert.StartsWith($"{TestModels.ModelPath("hello_world_int8")}: error MTVM2002: input 0 ", error);
        Assert.False(Directory.Exists(dir));
    }

    /// <summary>A model with two inputs takes them as two files or as one file holding both back to back (as
    /// tests/models stores them); either way the output is TFLM's.</summary>
    [Fact]
    public void RunTakesSeveralInputsBackToBackOrOnePerFile()
    {
        string folder = TestModels.Folder("simple_add_model");
        string dir = Path.Combine(Path.GetTempPath(), $"microtvm-cli-{Guid.NewGuid():N}");
        var (exit, _, error) = Run("run", TestModels.ModelPath("simple_add_model"), "--input", Path.Combine(folder, "input2.bin"), "-o", dir);
        Assert.True(exit == 0, error);
        Assert.Equal(File.ReadAllBytes(Path.Combine(folder, "output2.bin")), File.ReadAllBytes(Path.Combine(dir, "output0.bin")));

        var both = File.ReadAllBytes(Path.Combine(folder, "input2.bin"));
        File.WriteAllBytes(Path.Combine(dir, "a.bin"), both[..16384]);
        File.WriteAllBytes(Path.Combine(dir, "b.bin"), both[16384..]);
        (exit, _, error) = Run("run", TestModels.ModelPath("simple_add_model"), "--input", Path.Combine(dir, "a.bin"), "--input", Path.Combine(dir, "b.bin"), "-o", Path.Combine(dir, "two"));
        Assert.True(exit == 0, error);
        Assert.Equal(File.ReadAllBytes(Path.Combine(folder, "output2.bin")), File.ReadAllBytes(Path.Combine(dir, "two", "output0.bin")));

        (exit, _, error) = Run("run", TestModels.ModelPath("simple_add_model"), "--input", Path.Combine(dir, "a.bin"), "-o", Path.Combine(dir, "bad"));
        Assert.Equal(1, exit);
        Assert.Contains("error MTVM2002: the model's 2 inputs need 32768 bytes back to back (16384 + 16384), the file has 16384", error);
    }

    [Fact]
    public void MissingArgumentsFailWithUsage()
    {
        var (exit, _, error) = Run("run", TestModels.ModelPath("kws_dscnn"));
        Assert.Equal(1, exit);
        Assert.Contains("--input", error);
    }

    /// <summary>The real tool as a process: exit code and the one-line error format, no stack trace.</summary>
    [Fact]
    public void ToolProcessReportsErrorsWithoutStackTrace()
    {
        string tool = typeof(CliApp).Assembly.Location;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { tool, "inspect", "/no/such/model.tflite" }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(60_000));
        Assert.Equal(1, process.ExitCode);
        Assert.StartsWith("/no/such/model.tflite: error MTVM1001: ", error);
        Assert.DoesNotContain("   at ", error);
    }
}
