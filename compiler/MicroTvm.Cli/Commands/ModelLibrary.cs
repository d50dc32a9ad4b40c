using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;

namespace MicroTvm.Cli.Commands;

/// <summary>
/// <c>microtvm compile --format library</c>: the model as a C library for firmware built elsewhere (CMake, Make, Zephyr,
/// vendor IDEs). One folder: <c>include/&lt;name&gt;.h</c>, <c>src/&lt;name&gt;.c</c> (self-contained: the kernels' helpers
/// are inside it, it needs only the C library), <c>lib/&lt;cpu&gt;/lib&lt;name&gt;.a</c> prebuilt with gcc and ar for the
/// target's CPU, the JSON and the memory plan's picture, a <c>CMakeLists.txt</c> and a <c>README.md</c>; custom operators'
/// C files given with it go to <c>src/operators/</c> and into the archive. Beside the folder, <c>&lt;name&gt;.zip</c> holds
/// the same folder (it unpacks into <c>&lt;name&gt;/</c>), to hand over as one file. Everything is made in a temporary folder beside the destination and moved
/// into place at the end: a failure leaves no half library.
/// </summary>
public static class ModelLibrary
{
    /// <summary>Flags of the prebuilt archive besides the CPU's: what the SDK compiles model sources with.</summary>
    public const string CompileFlags = "-std=c99 -O2 -g -ffunction-sections -fdata-sections -ffp-contract=off -Wall";

    public static string ArchiveName(string model) => "lib" + model + ".a";

    /// <summary>Writes the library folder <paramref name="directory"/> (replacing an earlier one); returns its files.</summary>
    /// <param name="customOperators">The custom operators the model was compiled with (named in the README).</param>
    /// <param name="operatorSources">C files implementing them, carried by the library; an operator none implements is the
    /// firmware's to define (the README says which function).</param>
    public static IReadOnlyList<string> Write(GeneratedModel model, string directory, string? gccFlags, string? toolchain,
        IReadOnlyList<CustomOperator>? customOperators = null, IReadOnlyList<string>? operatorSources = null)
    {
        customOperators ??= Array.Empty<CustomOperator>();
        var operatorFiles = OperatorFiles(operatorSources ?? Array.Empty<string>());
        var target = Targets.Find(model.Metadata.Target);
        string cpuFlags = string.IsNullOrWhiteSpace(gccFlags) ? target.GccFlags : gccFlags!;
        bool host = target.GccFlags.Length == 0;
        string gcc = Tool(toolchain, host ? "gcc" : "arm-none-eabi-gcc");
        string ar = Tool(toolchain, host ? "ar" : "arm-none-eabi-ar");

        string full = Path.GetFullPath(directory);
        string staging = full.TrimEnd(Path.DirectorySeparatorChar) + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            Directory.CreateDirectory(Path.Combine(staging, "include"));
            Directory.CreateDirectory(Path.Combine(staging, "src"));
            string libDirectory = Path.Combine(staging, "lib", target.Name);
            Directory.CreateDirectory(libDirectory);
            File.WriteAllText(Path.Combine(staging, "include", model.HeaderFile), model.Files[model.HeaderFile]);
            File.WriteAllText(Path.Combine(staging, "src", model.SourceFile), model.Files[model.SourceFile]);
            File.WriteAllText(Path.Combine(staging, model.MetadataFile), model.Files[model.MetadataFile]);
            File.WriteAllText(Path.Combine(staging, model.PlanPictureFile), model.Files[model.PlanPictureFile]);
            var sources = new List<string> { Path.Combine("src", model.SourceFile) };
            string operatorText = "";
            foreach (var (name, source) in operatorFiles)
            {
                Directory.CreateDirectory(Path.Combine(staging, "src", "operators"));
                File.Copy(source, Path.Combine(staging, "src", "operators", name));
                sources.Add(Path.Combine("src", "operators", name));
                operatorText += File.ReadAllText(source) + "\n";
            }
            foreach (var (header, source) in RuntimeHeaders(model.Files[model.SourceFile] + "\n" + operatorText))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(staging, "include", header))!);
                File.Copy(source, Path.Combine(staging, "include", header));
            }

            var objects = new List<string>();
            foreach (string source in sources)
            {
                string objectFile = Path.Combine(staging, $"{objects.Count}-{Path.GetFileNameWithoutExtension(source)}.o");
                Run(gcc, [.. Split(cpuFlags), .. Split(CompileFlags), "-Iinclude", "-c", source, "-o", objectFile], staging);
                objects.Add(objectFile);
            }
            Run(ar, ["rcs", Path.Combine(libDirectory, ArchiveName(model.Name)), .. objects], staging);
            objects.ForEach(File.Delete);

            var libraryOperators = customOperators.Select(op => (op.Name, op.Function,
                File: (string?)operatorFiles.FirstOrDefault(f => DefinesFunction(File.ReadAllText(f.Source), op.Function)).Name)).ToList();
            File.WriteAllText(Path.Combine(staging, "CMakeLists.txt"), CMakeLists(model, target.Name, cpuFlags, sources));
            File.WriteAllText(Path.Combine(staging, "README.md"), Readme(model, target.Name, cpuFlags, libraryOperators));

            // The zip beside the folder, made from the staged files before they move into place; it unpacks into <name>/.
            string zipStaging = staging + ".zip";
            using (var zip = ZipFile.Open(zipStaging, ZipArchiveMode.Create))
            {
                foreach (string file in Directory.GetFiles(staging, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                    zip.CreateEntryFromFile(file, Path.GetFileName(full) + "/" + Path.GetRelativePath(staging, file).Replace('\\', '/'), CompressionLevel.Optimal);
            }
            if (Directory.Exists(full)) Directory.Delete(full, recursive: true);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            Directory.Move(staging, full);
            File.Move(zipStaging, ZipPath(full), overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CompilerException(ErrorCodes.OutputUnwritable, $"cannot write the library folder: {e.Message}") { File = directory };
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            if (File.Exists(staging + ".zip")) File.Delete(staging + ".zip");
        }
        return Directory.GetFiles(full, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Append(ZipPath(full)).ToList();
    }

    /// <summary>The library folder as one file, beside it: <c>kws/</c> → <c>kws.zip</c>, which unpacks into <c>kws/</c>.</summary>
    public static string ZipPath(string directory) => Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar) + ".zip";

    /// <summary>The custom operators' C files by the name they get in src/operators/: each must exist, names must differ.</summary>
    private static List<(string Name, string Source)> OperatorFiles(IReadOnlyList<string> sources)
    {
        var files = new List<(string Name, string Source)>();
        foreach (string source in sources)
        {
            if (!File.Exists(source))
                throw new CompilerException(ErrorCodes.LibraryOperatorSource, $"the custom operator source '{source}' (--custom-op-source) does not exist") { File = source };
            string name = Path.GetFileName(source);
            if (!name.EndsWith(".c", StringComparison.Ordinal))
                throw new CompilerException(ErrorCodes.LibraryOperatorSource, $"the custom operator source '{source}' (--custom-op-source) is not a .c file; the library compiles C99") { File = source };
            if (files.Any(f => f.Name == name))
                throw new CompilerException(ErrorCodes.LibraryOperatorSource, $"two custom operator sources are named {name} ({files.First(f => f.Name == name).Source} and {source}); the library keeps them side by side in src/operators/, rename one") { File = source };
            files.Add((name, Path.GetFullPath(source)));
        }
        return files;
    }

    /// <summary>True if <paramref name="source"/> has a definition (not only a declaration) of the C function.</summary>
    private static bool DefinesFunction(string source, string function) =>
        System.Text.RegularExpressions.Regex.IsMatch(source, $@"\b{function}\s*\([^;{{}})]*\)\s*\{{");

    /// <summary>The MicroTvm runtime headers the generated C includes ("microtvm/custom_op.h" for a model with custom
    /// operators), from the crt/include folder beside the tool (in the SDK package, or the repository).</summary>
    private static IEnumerable<(string Header, string Source)> RuntimeHeaders(string source)
    {
        var headers = System.Text.RegularExpressions.Regex.Matches(source, "^#include \"(microtvm/[A-Za-z0-9_]+\\.h)\"", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).Distinct().ToList();
        if (headers.Count == 0) yield break;
        string? include = null;
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null && include is null; folder = folder.Parent)
            if (Directory.Exists(Path.Combine(folder.FullName, "crt", "include", "microtvm"))) include = Path.Combine(folder.FullName, "crt", "include");
        foreach (string header in headers)
        {
            string path = include is null ? "" : Path.Combine(include, header);
            if (!File.Exists(path))
                throw new CompilerException(ErrorCodes.LibraryToolNotFound, $"the generated C includes \"{header}\", which is not in a crt/include folder above the tool ({AppContext.BaseDirectory}); run the microtvm tool of the MicroTvm.Sdk package");
            yield return (header, path);
        }
    }

    private static string[] Split(string flags) => flags.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static string Tool(string? toolchain, string name)
    {
        if (!string.IsNullOrEmpty(toolchain))
        {
            string inFolder = Path.Combine(toolchain, name);
            if (File.Exists(inFolder)) return inFolder;
            throw new CompilerException(ErrorCodes.LibraryToolNotFound, $"{name} is not in the toolchain folder '{toolchain}' (--toolchain)");
        }
        foreach (string folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(folder, name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new CompilerException(ErrorCodes.LibraryToolNotFound,
            $"{name} is not on PATH: the library's prebuilt archive needs it. Give its folder with --toolchain, or install it " +
            "(Debian/Ubuntu: sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi)");
    }

    private static void Run(string tool, IReadOnlyList<string> arguments, string directory)
    {
        var start = new ProcessStartInfo(tool) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new CompilerException(ErrorCodes.LibraryToolFailed, $"cannot start {tool}");
        var output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            throw new CompilerException(ErrorCodes.LibraryToolFailed, $"{Path.GetFileName(tool)} did not finish within 10 minutes");
        }
        if (process.ExitCode != 0)
            throw new CompilerException(ErrorCodes.LibraryToolFailed,
                $"{Path.GetFileName(tool)} {string.Join(' ', arguments)} failed with exit code {process.ExitCode}: {(output.Result + error).Trim()}");
    }

    private static string CMakeLists(GeneratedModel model, string cpu, string cpuFlags, IReadOnlyList<string> sources)
    {
        string name = model.Name, upper = name.ToUpperInvariant();
        string sourceList = string.Join(" ", sources.Select(s => "${CMAKE_CURRENT_LIST_DIR}/" + s.Replace('\\', '/')));
        return $$"""
            # The {{name}} model as a C library (microtvm compile --format library), for CMake projects:
            #   add_subdirectory(path/to/{{name}})
            #   target_link_libraries(your_firmware PRIVATE {{name}})
            # By default the prebuilt archive lib/{{cpu}}/{{ArchiveName(name)}} is linked (built with: {{cpuFlags}});
            # with -D{{upper}}_FROM_SOURCE=ON the generated C is compiled with your project's own flags instead.
            cmake_minimum_required(VERSION 3.13)
            project({{name}}_model C)

            option({{upper}}_FROM_SOURCE "Compile src/{{model.SourceFile}} with this project's flags instead of linking the prebuilt archive" OFF)

            if({{upper}}_FROM_SOURCE)
              add_library({{name}} STATIC {{sourceList}})
              target_include_directories({{name}} PUBLIC ${CMAKE_CURRENT_LIST_DIR}/include)
              # No fused multiply-add: float outputs stay equal to the compiler's evaluator.
              target_compile_options({{name}} PRIVATE -ffp-contract=off)
            else()
              add_library({{name}} STATIC IMPORTED GLOBAL)
              set_target_properties({{name}} PROPERTIES IMPORTED_LOCATION ${CMAKE_CURRENT_LIST_DIR}/lib/{{cpu}}/{{ArchiveName(name)}})
              target_include_directories({{name}} INTERFACE ${CMAKE_CURRENT_LIST_DIR}/include)
            endif()
            # The float kernels call the C library's math functions.
            target_link_libraries({{name}} INTERFACE m)

            """.Replace("\r\n", "\n");
    }

    private static string Readme(GeneratedModel model, string cpu, string cpuFlags, IReadOnlyList<(string Name, string Function, string? File)> operators)
    {
        var m = model.Metadata;
        string name = model.Name, upper = name.ToUpperInvariant();
        string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
        var io = new StringBuilder();
        foreach (var input in m.Inputs) io.Append(CultureInfo.InvariantCulture, $"| input {input.Index} | {input.Type} | {string.Join("x", input.Shape)} | {N(input.Bytes)} |\n");
        foreach (var output in m.Outputs) io.Append(CultureInfo.InvariantCulture, $"| output {output.Index} | {output.Type} | {string.Join("x", output.Shape)} | {N(output.Bytes)} |\n");
        string call = m.IoInWorkspace
            ? $"    {name}_run(workspace); /* inputs and outputs live in the workspace: {name}_input0(workspace), {name}_output0(workspace) */"
            : $$"""
                  const {{name}}_inputs inputs = { .input0 = my_input };
                  const {{name}}_outputs outputs = { .output0 = my_output };
                  if ({{name}}_run(&inputs, &outputs, workspace) != 0) { /* a failed run */ }
              """;
        return $"""
            # {name}: a TensorFlow Lite model compiled to C by microtvm

            Made by `microtvm compile --format library` for **{cpu}** (from {m.Source ?? "the model"}). It needs no runtime
            and no allocator: `src/{model.SourceFile}` is self-contained C99 that includes only the C library, and all
            activations live in one workspace buffer that you provide.

            | file | what |
            |---|---|
            | `include/{model.HeaderFile}` | the API: `{name}_run`, `{upper}_WORKSPACE_SIZE`, input and output sizes and quantization |
            | `src/{model.SourceFile}` | the generated C (weights as `const` data in flash) |
            | `lib/{cpu}/{ArchiveName(name)}` | prebuilt with `arm-none-eabi-gcc {cpuFlags} {CompileFlags}` |
            | `{model.MetadataFile}` | operators, tensors and the memory plan |
            | `{model.PlanPictureFile}` | the memory plan as a picture |
            | `CMakeLists.txt` | `add_subdirectory` + `target_link_libraries(app PRIVATE {name})` |{(operators.Any(o => o.File != null) ? "\n| `src/operators/` | the custom operators' C (below), compiled into the archive too |" : "")}

            Your firmware must use the same CPU and float ABI as the archive (`{cpuFlags}`); otherwise build from source
            (`-D{upper}_FROM_SOURCE=ON` in CMake, or add `src/{model.SourceFile}` to any build, e.g. Make or a vendor IDE,
            with `-Iinclude -ffp-contract=off`). The archive is built with `-ffunction-sections -fdata-sections`: link with
            `-Wl,--gc-sections` to drop what you do not call.

            ## Figures

            - workspace: {N(m.WorkspaceBytes)} bytes (RAM), aligned to {m.WorkspaceAlignment} bytes{(m.StateBytes > 0 ? $", of which {N(m.StateBytes)} bytes of state kept between runs (`{name}_reset` sets it)" : "")}
            - constant data: {N(m.WeightsBytes)} bytes (flash)
            - {m.Operators.Count} operators, {N(m.Macs)} multiply-accumulates

            | tensor | type | shape | bytes |
            |---|---|---|---|
            {io.ToString().TrimEnd('\n')}

            ## Use

            ```c
            #include "{model.HeaderFile}"

            static uint8_t workspace[{upper}_WORKSPACE_SIZE] __attribute__((aligned({upper}_WORKSPACE_ALIGNMENT)));

            {call}
            ```

            `{name}_run` returns 0 on success. {(m.StateBytes > 0 ? $"Call `{name}_reset(workspace)` once before the first run." : "")}
            """.Replace("\r\n", "\n") + "\n" + CustomOperatorSection(operators);
    }

    /// <summary>Which function each custom operator calls, and whether the library carries it or the firmware must.</summary>
    private static string CustomOperatorSection(IReadOnlyList<(string Name, string Function, string? File)> operators)
    {
        if (operators.Count == 0) return "";
        var text = new StringBuilder("""

            ## Custom operators

            The model calls one C function per custom operator, `int f(const microtvm_custom_op* op)` (0: success; the
            descriptor is in `include/microtvm/custom_op.h`).

            | custom code | C function | implemented by |
            |---|---|---|

            """.Replace("\r\n", "\n"));
        foreach (var (name, function, file) in operators)
            text.Append(CultureInfo.InvariantCulture, $"| `{name}` | `{function}` | {(file != null ? $"`src/operators/{file}`, in the archive" : "**your firmware**: define it in one of your C files, or the link fails with `undefined reference`")} |\n");
        return text.ToString();
    }
}
