using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Device;

namespace MicroTvm.Cli.Commands;

/// <summary>How to start a built server firmware: written by the cache project's build (launch.txt).</summary>
public sealed record LaunchInfo(string Elf, string Emulator, string EmulatorArguments, string RpcEmulatorArguments, string Transport, string Metadata, string Project)
{
    public static LaunchInfo Read(string file, string project)
    {
        var values = File.ReadAllLines(file).Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        string V(string key) => values.GetValueOrDefault(key, "").Trim();
        return new LaunchInfo(V("elf"), V("emulator"), V("arguments"), V("rpc"), V("transport"), V("metadata"), project);
    }
}

/// <summary>
/// Builds an RPC server firmware for one model and board through the MicroTvm.Sdk, as a user project in a cache folder
/// (one folder per model content, board, name, options and SDK), so a second run for the same model and board builds
/// nothing. The project is what a user would write: a MicroModel item, MicroTvmRpcServer=true and a main() that serves.
/// </summary>
public static class ServerFirmware
{
    public static LaunchInfo Ensure(string modelPath, string board, string name, bool profile, bool ioInWorkspace, string sdkRoot, string cacheRoot, TextWriter log)
    {
        string sdkProps = Path.Combine(sdkRoot, "Sdk", "Sdk.props");
        if (!File.Exists(sdkProps))
            throw new CompilerException(DeviceErrors.SdkNotFound, $"no MicroTvm.Sdk at '{sdkRoot}' (Sdk/Sdk.props is missing); pass --sdk <folder of the unpacked MicroTvm.Sdk package> or set MICROTVM_SDK") { File = modelPath };
        byte[] model = File.ReadAllBytes(modelPath);
        string sdkStamp = string.Join("|", new[] { sdkProps, Path.Combine(sdkRoot, "tools", "microtvm", "MicroTvm.Compiler.dll"), Path.Combine(sdkRoot, "crt", "rpc", "rpc_server.c") }
            .Select(f => File.Exists(f) ? $"{f}:{File.GetLastWriteTimeUtc(f).Ticks}:{new FileInfo(f).Length}" : f));
        string key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(
            $"release|{Convert.ToHexString(SHA256.HashData(model))}|{board}|{name}|{profile}|{ioInWorkspace}|{Path.GetFullPath(sdkRoot)}|{sdkStamp}")))[..16].ToLowerInvariant();
        string dir = Path.Combine(cacheRoot, $"{name}-{board}{(profile ? "-profile" : "")}-{key}");
        string launchFile = Path.Combine(dir, "launch.txt");
        if (File.Exists(launchFile))
        {
            var cached = LaunchInfo.Read(launchFile, dir);
            if (File.Exists(cached.Elf) && File.Exists(cached.Metadata))
            {
                log.WriteLine($"server firmware (cached): {cached.Elf}");
                return cached;
            }
        }

        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "model.tflite"), model);
        return Build(dir, board, profile, $"""<MicroModel Include="model.tflite" Name="{name}" IoInWorkspace="{(ioInWorkspace ? "true" : "false")}" />""", sdkRoot, log);
    }

    /// <summary>Writes and builds (Release) an RPC server project in <paramref name="dir"/> whose ItemGroup holds
    /// <paramref name="items"/> (MicroModel items, or Compile and MicroTvmRpcModel items of models compiled outside it).
    /// A build error (MTVM4108) carries the build's error lines.</summary>
    public static LaunchInfo Build(string dir, string board, bool profile, string items, string sdkRoot, TextWriter log, string? boardDirectory = null)
    {
        string launchFile = Path.Combine(dir, "launch.txt");
        File.Delete(launchFile);
        File.WriteAllText(Path.Combine(dir, "main.c"), "#include \"microtvm/rpc.h\"\n\nint main(void)\n{\n    microtvm_rpc_serve();\n}\n");
        File.WriteAllText(Path.Combine(dir, "NuGet.config"),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <packageSources>\n    <clear />\n  </packageSources>\n</configuration>\n");
        string sdk = Path.GetFullPath(sdkRoot);
        File.WriteAllText(Path.Combine(dir, "server.csproj"), $"""
            <Project>
              <!-- Written by microtvm (run with a board, tune): an RPC server firmware. -->
              <Import Project="{sdk}/Sdk/Sdk.props" />
              <PropertyGroup>
                <Board>{board}</Board>{(boardDirectory is null ? "" : $"\n    <MicroTvmBoardDirectory>{boardDirectory}</MicroTvmBoardDirectory>")}
                <MicroTvmRpcServer>true</MicroTvmRpcServer>
                <MicroTvmRpcProfile>{(profile ? "true" : "false")}</MicroTvmRpcProfile>
              </PropertyGroup>
              <ItemGroup>
                {items}
              </ItemGroup>
              <Import Project="{sdk}/Sdk/Sdk.targets" />
              <PropertyGroup>
                <_LaunchDependsOn>Build</_LaunchDependsOn>
                <_LaunchDependsOn Condition="'$(MicroTvmEmulator)' != ''">Build;MicroTvmResolveEmulator</_LaunchDependsOn>
              </PropertyGroup>
              <Target Name="WriteLaunchInfo" DependsOnTargets="$(_LaunchDependsOn)">
                <ItemGroup>
                  <_LaunchLine Include="elf=$([System.IO.Path]::GetFullPath('$(MicroTvmFirmwareElf)'))" />
                  <_LaunchLine Include="emulator=$(MicroTvmEmulatorPath)" />
                  <_LaunchLine Include="arguments=$(MicroTvmEmulatorArguments) $(RunArguments)" />
                  <_LaunchLine Include="rpc=$(MicroTvmBoardRpcEmulatorArguments)" />
                  <_LaunchLine Include="transport=$(MicroTvmBoardRpcTransport)" />
                  <_LaunchLine Include="@(MicroTvmModel->'metadata=%(MetadataFile)')" />
                </ItemGroup>
                <WriteLinesToFile File="launch.txt" Lines="@(_LaunchLine)" Overwrite="true" />
              </Target>
            </Project>
            """);
        log.WriteLine($"building the server firmware for {board} in {dir} ...");
        var watch = Stopwatch.StartNew();
        var (code, output) = DotNet(dir, new[] { "build", "server.csproj", "-c", "Release", "-t:WriteLaunchInfo", "-nodeReuse:false", "-v:minimal", "-clp:NoSummary" });
        if (code != 0 || !File.Exists(launchFile))
        {
            var errors = output.Split('\n').Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)).Distinct().Take(10);
            throw new CompilerException(DeviceErrors.BuildFailed, $"building the server firmware failed (exit code {code}):\n{string.Join("\n", errors)}") { File = Path.Combine(dir, "server.csproj") };
        }

        log.WriteLine($"built in {watch.Elapsed.TotalSeconds:0.0} s");
        return LaunchInfo.Read(launchFile, dir);
    }

    /// <summary>Programs a real board (its flash runner through -t:Flash).</summary>
    public static void Flash(LaunchInfo launch)
    {
        var (code, output) = DotNet(launch.Project, new[] { "build", "server.csproj", "-c", "Release", "-t:Flash", "-nodeReuse:false", "-v:minimal", "-clp:NoSummary" });
        if (code != 0)
            throw new CompilerException(DeviceErrors.BuildFailed, $"flashing the board failed (exit code {code}):\n{output.Trim()}") { File = Path.Combine(launch.Project, "server.csproj") };
    }

    private static (int Code, string Output) DotNet(string dir, IEnumerable<string> arguments)
    {
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h
            : Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var start = new ProcessStartInfo(host) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        // Started from a build (-t:Profile): the nested build must not inherit the parent's MSBuild settings.
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildLoadMicrosoftTargetsReadOnly", "MSBUILDNOINPROCNODE" })
            start.Environment.Remove(name);
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }
}
