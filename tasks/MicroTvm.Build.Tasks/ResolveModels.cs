using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MicroTvm.Build.Tasks
{
    /// <summary>
    /// Checks the <c>MicroModel</c> items' metadata and predicts, from the names alone, every file the model
    /// compiler will write. Runs no compiler and writes nothing, so design-time builds (IntelliSense) call it too:
    /// the generated header's folder and the generated C source are known before any model is compiled.
    /// </summary>
    public sealed class MicroTvmResolveModels : Task
    {
        /// <summary>The MicroModel items; metadata Cpu, Name, Executor, IoInWorkspace (all optional). (Not "Target":
        /// MSBuild reserves that metadata name.)</summary>
        public ITaskItem[] Models { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>The board's CPU (<c>MicroTvmCpu</c>); the default and the only accepted Cpu.</summary>
        public string? BoardCpu { get; set; }

        /// <summary>The flags that compile the generated C (<c>MicroTvmCpuFlags</c>): the compiler checks that they build for
        /// the model's CPU (MTVM1013).</summary>
        public string? BoardCpuFlags { get; set; }

        public string? Board { get; set; }

        /// <summary>The project-wide weight layout (<c>MicroTvmWeightLayout</c>: auto, speed, size), for models without WeightLayout metadata.</summary>
        public string? WeightLayout { get; set; }

        /// <summary>The project-wide tuning log (<c>MicroTvmTuningLog</c>), for models without TuningLog metadata.</summary>
        public string? TuningLog { get; set; }

        /// <summary>Generated files go to OutputDirectory/&lt;name&gt;.{c,h,json}: one folder for all models, so the
        /// include path (part of every C source's command line) does not change when a model is added or renamed.</summary>
        [Required]
        public string OutputDirectory { get; set; } = "";

        [Required]
        public string ProjectDirectory { get; set; } = "";

        /// <summary>The other folders of the C include path (project, runtime, board): a model header with the name of a
        /// header there would hide it (or be hidden by it) for every source.</summary>
        public string[] IncludeDirectories { get; set; } = Array.Empty<string>();

        /// <summary>The MicroModelOperator items: a C file implementing a custom operator, metadata Name (the model's custom
        /// code) and ScratchBytes (optional). Every model of the project may use them.</summary>
        public ITaskItem[] Operators { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>
        /// One item per model: the model's full path, with metadata ModelName, ModelCustomOperators (the compiler's
        /// --custom-op values, NAME:SCRATCH_BYTES, joined by '|'), ModelTarget (the compiler's
        /// target), ModelGccFlags (the board's MicroTvmCpuFlags), IoInWorkspace (true/false, read with <see cref="IsIoInWorkspace"/>), SourceItem (the Include as written), OutputDirectory, SourceFile, HeaderFile, MetadataFile, PlanFile (the memory plan's picture),
        /// OptionsFile, StampFile and Options (the text whose change must regenerate the model).
        /// </summary>
        [Output]
        public ITaskItem[] ResolvedModels { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>The one name of the option on both items, the MicroModel (as written) and the resolved model
        /// (normalised to true/false); the compiler's JSON says "ioInWorkspace", its command line "--io-in-workspace".</summary>
        internal const string IoInWorkspace = "IoInWorkspace";

        /// <summary>Whether a resolved model (an item of <see cref="ResolvedModels"/>) has its inputs and outputs in the workspace.</summary>
        internal static bool IsIoInWorkspace(ITaskItem resolved) => resolved.GetMetadata(IoInWorkspace) == "true";

        public override bool Execute()
        {
            var resolved = new List<ITaskItem>();
            var byName = new Dictionary<string, ITaskItem>(StringComparer.OrdinalIgnoreCase);
            string customOperators = ResolveOperators();
            foreach (var model in Models)
            {
                var item = Resolve(model, customOperators);
                if (item == null)
                {
                    continue;
                }
                string name = item.GetMetadata("ModelName");
                if (byName.TryGetValue(name, out var other))
                {
                    // Names are C prefixes and folder names: they must differ even on case-insensitive file systems.
                    Error(ErrorCodes.DuplicateModelName, model,
                        "MicroModel '{0}' and MicroModel '{1}' both have the name '{2}' (the C prefix and the folder of the generated files). Give one of them another Name.",
                        other.GetMetadata("SourceItem"), model.ItemSpec, name);
                    continue;
                }
                byName[name] = item;
                resolved.Add(item);
            }
            ResolvedModels = resolved.ToArray();
            return !Log.HasLoggedErrors;
        }

        /// <summary>Checks the MicroModelOperator items; the compiler's --custom-op values joined by '|' (the same for every
        /// model: one that does not use an operator compiles to the same C).</summary>
        private string ResolveOperators()
        {
            var values = new List<string>();
            var byFunction = new Dictionary<string, ITaskItem>(StringComparer.Ordinal);
            foreach (var op in Operators)
            {
                string name = op.GetMetadata("Name");
                string function = MicroTvm.Compiler.Codegen.CIdentifiers.From(name);
                if (name.Length == 0 || name.Trim() != name || name.IndexOfAny(new[] { '|', ';' }) >= 0 || name.Any(char.IsControl)
                    || !MicroTvm.Compiler.Codegen.CIdentifiers.IsValid(function))
                {
                    Error(ErrorCodes.InvalidCustomOperatorName, op,
                        "MicroModelOperator '{0}' has Name '{1}'; give the custom operator's custom_code as the model stores it (e.g. Name=\"MyVendorOp\"), without '|', ';' or surrounding spaces. Its C function is that name with characters other than letters, digits and '_' made '_'.",
                        op.ItemSpec, name);
                    continue;
                }
                string scratchText = op.GetMetadata("ScratchBytes").Trim();
                long scratch = 0;
                if (scratchText.Length > 0 && (!long.TryParse(scratchText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out scratch) || scratch > 1L << 30))
                {
                    Error(ErrorCodes.InvalidCustomOperatorScratch, op,
                        "MicroModelOperator '{0}' has ScratchBytes '{1}'; give a whole number of bytes from 0 to 1073741824 (the working memory its function gets in op->scratch).",
                        op.ItemSpec, scratchText);
                    continue;
                }
                if (byFunction.TryGetValue(function, out var other))
                {
                    Error(ErrorCodes.DuplicateCustomOperator, op,
                        "MicroModelOperator '{0}' (Name '{1}') and MicroModelOperator '{2}' (Name '{3}') implement the same C function {4}; give each custom operator one item.",
                        op.ItemSpec, name, other.ItemSpec, other.GetMetadata("Name"), function);
                    continue;
                }
                byFunction[function] = op;
                values.Add(name + ":" + scratch.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            values.Sort(StringComparer.Ordinal);
            return string.Join("|", values);
        }

        private ITaskItem? Resolve(ITaskItem model, string customOperators)
        {
            string path = Path.GetFullPath(Path.Combine(ProjectDirectory, model.ItemSpec));
            bool ok = true;
            if (!File.Exists(path))
            {
                Error(ErrorCodes.ModelNotFound, model, "MicroModel '{0}': the model file {1} does not exist.", model.ItemSpec, path);
                ok = false;
            }

            string target = model.GetMetadata("Cpu").Trim();
            string cpu = (BoardCpu ?? "").Trim();
            if (target.Length == 0)
            {
                target = cpu;
            }
            if (target.Length == 0)
            {
                Error(ErrorCodes.ModelTargetMismatch, model,
                    "MicroModel '{0}' has no Cpu and board '{1}' names no CPU (MicroTvmCpu); set Cpu (e.g. Cpu=\"cortex-m7\") or MicroTvmCpu in the board.",
                    model.ItemSpec, Board);
                ok = false;
            }
            else if (cpu.Length > 0 && !string.Equals(target, cpu, StringComparison.OrdinalIgnoreCase))
            {
                // The generated C is compiled with the board's CPU flags; kernels chosen for another CPU would be
                // either illegal there (DSP/Helium instructions) or slower than they should be.
                Error(ErrorCodes.ModelTargetMismatch, model,
                    "MicroModel '{0}' has Cpu '{1}', but board '{2}' has a {3} CPU. Remove Cpu (it defaults to the board's CPU) or set it to {3}.",
                    model.ItemSpec, target, Board, cpu);
                ok = false;
            }

            string executor = model.GetMetadata("Executor").Trim();
            if (executor.Length > 0 && !string.Equals(executor, "aot", StringComparison.OrdinalIgnoreCase))
            {
                Error(ErrorCodes.ModelUnsupportedExecutor, model,
                    "MicroModel '{0}' has Executor '{1}'; the only executor is 'aot' (one ahead-of-time entry point per model).",
                    model.ItemSpec, executor);
                ok = false;
            }

            string ioText = model.GetMetadata(IoInWorkspace).Trim();
            bool ioInWorkspace = string.Equals(ioText, "true", StringComparison.OrdinalIgnoreCase);
            if (ioText.Length > 0 && !ioInWorkspace && !string.Equals(ioText, "false", StringComparison.OrdinalIgnoreCase))
            {
                Error(ErrorCodes.InvalidModelIoInWorkspace, model,
                    "MicroModel '{0}' has IoInWorkspace '{1}'; use 'true' (inputs and outputs inside the workspace: <name>_run(workspace)) or 'false' (the default: caller buffers).",
                    model.ItemSpec, ioText);
                ok = false;
            }

            string name = model.GetMetadata("Name").Trim();
            if (name.Length == 0)
            {
                name = ModelNames.FromFileName(Path.GetFileNameWithoutExtension(path));
            }
            if (!ModelNames.IsCIdentifier(name))
            {
                Error(ErrorCodes.InvalidModelName, model,
                    "MicroModel '{0}' has Name '{1}', which is not a C identifier (letters, digits and '_', not starting with a digit); it prefixes the generated C API (<name>_run, <name>.h).",
                    model.ItemSpec, name);
                ok = false;
            }
            else if (ShadowedHeader(name) is string header)
            {
                Error(ErrorCodes.ModelNameHidesHeader, model,
                    "MicroModel '{0}' has the name '{1}', so its generated header {1}.h would clash with {2} on the include path of every C source. Give the model another Name (e.g. Name=\"{1}_model\").",
                    model.ItemSpec, name, header);
                ok = false;
            }
            string layout = model.GetMetadata("WeightLayout").Trim();
            string layoutFrom = "WeightLayout";
            if (layout.Length == 0)
            {
                layout = (WeightLayout ?? "").Trim();
                layoutFrom = "MicroTvmWeightLayout";
            }
            layout = layout.Length == 0 ? WeightLayoutChoice.Auto : layout.ToLowerInvariant();
            if (!WeightLayoutChoice.IsValid(layout))
            {
                Error(ErrorCodes.InvalidWeightLayout, model,
                    "MicroModel '{0}': {1} is '{2}'; use auto (the default: the fastest layout whose firmware fits the board's flash), speed (widened int16 filters) or size (compact int8).",
                    model.ItemSpec, layoutFrom, layout);
                ok = false;
            }
            if (!ok)
            {
                return null;
            }

            // The tuning log is an input of the model's compilation (docs/tuning.md); relative to the project folder.
            string log = model.GetMetadata("TuningLog").Trim();
            if (log.Length == 0)
            {
                log = (TuningLog ?? "").Trim();
            }
            if (log.Length > 0)
            {
                log = Path.GetFullPath(Path.Combine(ProjectDirectory, log));
            }

            string directory = PathUtil.EnsureTrailingSeparator(OutputDirectory);
            var item = PathUtil.Item(path);
            PathUtil.SetLiteral(item, "ModelName", name);
            PathUtil.SetLiteral(item, "ModelTarget", target.ToLowerInvariant());
            PathUtil.SetLiteral(item, IoInWorkspace, ioInWorkspace ? "true" : "false");
            PathUtil.SetLiteral(item, "SourceItem", model.ItemSpec);
            PathUtil.SetLiteral(item, "OutputDirectory", directory);
            PathUtil.SetLiteral(item, "SourceFile", directory + name + ".c");
            PathUtil.SetLiteral(item, "HeaderFile", directory + name + ".h");
            PathUtil.SetLiteral(item, "MetadataFile", directory + name + ".json");
            PathUtil.SetLiteral(item, "PlanFile", directory + name + ".plan.svg");
            PathUtil.SetLiteral(item, "OptionsFile", directory + name + ".options");
            PathUtil.SetLiteral(item, "StampFile", directory + name + ".stamp");
            PathUtil.SetLiteral(item, "ModelTuningLog", log);
            PathUtil.SetLiteral(item, "ModelWeightLayout", layout);
            string gccFlags = (BoardCpuFlags ?? "").Trim();
            PathUtil.SetLiteral(item, "ModelGccFlags", gccFlags);
            PathUtil.SetLiteral(item, "ModelCustomOperators", customOperators);
            item.SetMetadata("Options", "name=" + name + ";target=" + target.ToLowerInvariant() + ";executor=aot" + (ioInWorkspace ? ";io-in-workspace" : "")
                + (log.Length > 0 ? ";tuning-log=" + EscapeOption(log) : "") + (gccFlags.Length > 0 ? ";gcc-flags=" + EscapeOption(gccFlags) : "")
                + (customOperators.Length > 0 ? ";custom-ops=" + EscapeOption(customOperators) : ""));
            return item;
        }

        /// <summary>A path inside the Options text, which MSBuild splits at ';' and expands at '%', '$' and '@'.</summary>
        private static string EscapeOption(string path) =>
            path.Replace("%", "%25").Replace(";", "%3B").Replace("$", "%24").Replace("@", "%40").Replace("'", "%27");

        /// <summary>The header a model named <paramref name="name"/> would clash with (compared without case, as
        /// Windows and macOS file systems do), or null.</summary>
        private string? ShadowedHeader(string name)
        {
            if (ModelNames.CLibraryHeaders.Contains(name))
            {
                return "the C library's <" + name.ToLowerInvariant() + ".h>";
            }
            foreach (var folder in IncludeDirectories.Where(d => !string.IsNullOrWhiteSpace(d)))
            {
                string directory = Path.GetFullPath(Path.Combine(ProjectDirectory, folder.Trim()));
                if (!Directory.Exists(directory))
                {
                    continue;
                }
                string? header = Directory.EnumerateFiles(directory, "*.h")
                    .FirstOrDefault(f => string.Equals(Path.GetFileName(f), name + ".h", StringComparison.OrdinalIgnoreCase));
                if (header != null)
                {
                    return header;
                }
            }
            return null;
        }

        private void Error(string code, ITaskItem model, string format, params object?[] arguments)
        {
            // The item is defined in the project (or an import): point there, as MSBuild does for item errors.
            string file = model.GetMetadata("DefiningProjectFullPath");
            if (string.IsNullOrEmpty(file))
            {
                file = BuildEngine.ProjectFileOfTaskNode;
            }
            Log.LogError(null, code, ErrorCodes.HelpLink, file, 0, 0, 0, 0, format, arguments);
        }
    }

    /// <summary>The C prefix of a model: a valid C identifier derived from the file name.</summary>
    internal static class ModelNames
    {
        /// <summary>The compiler's rule (<see cref="MicroTvm.Compiler.Codegen.CIdentifiers"/>, compiled in here too).</summary>
        public static string FromFileName(string fileName) => MicroTvm.Compiler.Codegen.CIdentifiers.From(fileName);

        /// <summary>Top-level headers of the C library and compiler (C99-C23, newlib, arm-none-eabi-gcc): a generated
        /// &lt;name&gt;.h in a plain -I folder would hide them ("stdint" broke every source; "string" and "stdio" silently
        /// replaced the runtime's declarations).</summary>
        public static readonly HashSet<string> CLibraryHeaders = new HashSet<string>(new[]
        {
            "_ansi", "_newlib_version", "_syslist", "alloca", "ar", "argz", "arm_acle", "arm_bf16", "arm_cde", "arm_cmse", "arm_fp16",
            "arm_mve", "arm_mve_types", "arm_neon", "assert", "complex", "cpio", "ctype", "devctl", "dirent", "elf", "envlock", "envz",
            "errno", "fastmath", "fcntl", "fenv", "float", "fnmatch", "gcov", "getopt", "glob", "grp", "iconv", "ieeefp", "inttypes",
            "iso646", "langinfo", "libgen", "limits", "locale", "malloc", "math", "memory", "mmintrin", "ndbm", "newlib", "paths",
            "pthread", "pwd", "reent", "regdef", "regex", "sched", "search", "setjmp", "signal", "spawn", "stdalign", "stdarg",
            "stdatomic", "stdbit", "stdbool", "stdckdint", "stddef", "stdfix", "stdint", "stdio", "stdio_ext", "stdlib",
            "stdnoreturn", "string", "strings", "tar", "termios", "tgmath", "threads", "time", "uchar", "unctrl", "unistd",
            "unwind", "unwind-arm-common", "utime", "utmp", "varargs", "wchar", "wctype", "wordexp",
        }, StringComparer.OrdinalIgnoreCase);

        public static bool IsCIdentifier(string name) => MicroTvm.Compiler.Codegen.CIdentifiers.IsValid(name);
    }
}
