using System.Diagnostics;
using MicroTvm.Device;

namespace MicroTvm.Sdk.Tests.Rpc;

/// <summary>The device's frame parser (crt/rpc/rpc_frame.c) compiled for the host with ASan and UBSan and fed random
/// and damaged frames by rpc_frame_fuzz.c; and the host's frames (MicroTvm.Device) byte-equal to the device's.</summary>
[Trait("Speed", "Slow")] // gcc: not in eng/test.sh --fast
public sealed class RpcFrameFuzzTests
{
    private static string RepositoryRoot
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "MicroTvm.slnx"))) return d.FullName;
            throw new InvalidOperationException("MicroTvm.slnx not found");
        }
    }

    private static string BuildDriver()
    {
        string root = RepositoryRoot, exe = Path.Combine(Path.GetTempPath(), "rpc-frame-fuzz-" + Guid.NewGuid().ToString("N")[..8]);
        var r = Run("gcc", new[]
        {
            "-std=c99", "-Wall", "-Wextra", "-Werror", "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
            "-I" + Path.Combine(root, "crt", "include"), Path.Combine(root, "tests", "MicroTvm.Sdk.Tests", "Rpc", "rpc_frame_fuzz.c"),
            Path.Combine(root, "crt", "rpc", "rpc_frame.c"), "-o", exe,
        });
        Assert.True(r.Code == 0, r.Output);
        return exe;
    }

    [Fact]
    public void ParserSurvivesAHundredThousandRandomAndDamagedFrames()
    {
        string exe = BuildDriver();
        try
        {
            var r = Run(exe, new[] { "100000", "20261203" });
            Assert.True(r.Code == 0, r.Output);
            var m = System.Text.RegularExpressions.Regex.Match(r.Output, @"intact (\d+) accepted (\d+) damaged (\d+)");
            Assert.True(m.Success, r.Output);
            Assert.Equal(m.Groups[1].Value, m.Groups[2].Value);
            Assert.True(long.Parse(m.Groups[1].Value) + long.Parse(m.Groups[3].Value) >= 100000, r.Output);
            Assert.True(long.Parse(m.Groups[3].Value) > 50000, r.Output);
        }
        finally
        {
            File.Delete(exe);
        }
    }

    [Fact]
    public void HostFramesAreTheDevicesFrames()
    {
        string exe = BuildDriver();
        try
        {
            var r = Run(exe, new[] { "encode" });
            Assert.True(r.Code == 0, r.Output);
            var payload = System.Text.Encoding.Latin1.GetBytes("MicroTvm \u00A5\u004D frame");
            Assert.Equal(Convert.ToHexString(RpcFrame.Encode(0x1234, payload)), r.Output.Trim());
            // The host's reader takes the device's frame out of garbage.
            var reader = new RpcFrameReader(1024);
            reader.Add(new byte[] { 0xA5, 0x4D, 0x10, 0x00, 1, 2, 3, 0xA5 });
            reader.Add(Convert.FromHexString(r.Output.Trim()));
            var frame = reader.Next();
            Assert.NotNull(frame);
            Assert.Equal(0x1234, frame.Value.Sequence);
            Assert.Equal(payload, frame.Value.Payload);
        }
        finally
        {
            File.Delete(exe);
        }
    }

    private static (int Code, string Output) Run(string file, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output + err.Result);
    }
}
