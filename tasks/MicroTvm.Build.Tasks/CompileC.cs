using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;


namespace MicroTvm.Build.Tasks
{
    /// <summary>
    /// Compiles C and assembler sources with gcc, one object per source, in parallel (bounded to the cores,
    /// cancellable). A source is recompiled only when its object is missing or older than the source or any
    /// header its gcc dependency file (-MMD -MP) lists, when its object is no longer as gcc wrote it (size and time
    /// in objects.record: an emptied or overwritten .o is newer than its source, yet broken), or when the effective
    /// command line changed (its hash is kept in <see cref="HashFile"/>, written only when different). A build with
    /// nothing to do runs no gcc and writes no file.
    /// </summary>
    public sealed class MicroTvmCompileC : Task, ICancelableTask
    {
        private readonly CancellationTokenSource cancellation = new CancellationTokenSource();

        /// <summary>Sources; optional metadata ObjectFile overrides the object path.</summary>
        [Required]
        public ITaskItem[] Sources { get; set; } = Array.Empty<ITaskItem>();

        [Required]
        public string CompilerPath { get; set; } = "";

        /// <summary>The C++ compiler (arm-none-eabi-g++) for .cpp/.cc/.cxx sources.</summary>
        public string CxxCompilerPath { get; set; } = "";

        /// <summary>C++ sources' flags: they replace the common flags' -std= (a C standard, which g++ warns about).</summary>
        public string CxxOptions { get; set; } = "";

        /// <summary>
        /// Flags shared by every source, space-separated (';' separates too). A string, not a string[]: MSBuild turns the
        /// backslashes of array entries into '/' on Unix (they are item specs), so <c>-DVER=\"1.0\"</c> reached gcc as
        /// <c>-DVER=/1.0/</c>.
        /// </summary>
        public string Options { get; set; } = "";

        public string[] Defines { get; set; } = Array.Empty<string>();

        public string[] IncludeDirectories { get; set; } = Array.Empty<string>();

        [Required]
        public string ProjectDirectory { get; set; } = "";

        /// <summary>Objects and dependency files go below this folder, mirroring the sources' folders.</summary>
        [Required]
        public string IntermediateDirectory { get; set; } = "";

        /// <summary>Hash of the effective command line of the last successful compile.</summary>
        [Required]
        public string HashFile { get; set; } = "";

        /// <summary>Anything else that should force a full rebuild when it changes (e.g. the SDK version).</summary>
        public string? Identity { get; set; }

        public int MaxParallelism { get; set; }

        /// <summary>Sources generated below this folder (e.g. obj/Debug/) get objects under generated/.</summary>
        public string? GeneratedSourcesDirectory { get; set; }

        /// <summary>Where to write a JSON compilation database (clangd, VS Code); written only when different.</summary>
        public string? CompileCommandsFile { get; set; }

        [Output]
        public ITaskItem[] ObjectFiles { get; set; } = Array.Empty<ITaskItem>();

        [Output]
        public ITaskItem[] CompiledSources { get; set; } = Array.Empty<ITaskItem>();

        [Output]
        public ITaskItem[] FileWrites { get; set; } = Array.Empty<ITaskItem>();

        public void Cancel() => cancellation.Cancel();

        private sealed class Unit
        {
            public Unit(ITaskItem item, string source, string objectFile)
            {
                Item = item;
                Source = source;
                ObjectFile = objectFile;
                DependencyFile = Path.ChangeExtension(objectFile, ".d");
                OwnFlagsFile = objectFile + ".flags";
                AdditionalArguments = ProcessRunner.SplitFlags(item.GetMetadata("AdditionalOptions"));
                string extension = Path.GetExtension(source).ToLowerInvariant();
                IsCxx = extension == ".cpp" || extension == ".cc" || extension == ".cxx";
            }

            public bool IsCxx { get; }

            public ITaskItem Item { get; }
            public string Source { get; }
            public string ObjectFile { get; }
            public string DependencyFile { get; }
            /// <summary>Where the source's own flags of its last compile are kept (only when it has some).</summary>
            public string OwnFlagsFile { get; }
            /// <summary>This source's own flags (item metadata AdditionalOptions), after the common ones.</summary>
            public IReadOnlyList<string> AdditionalArguments { get; }
            public string Display { get; set; } = "";
        }

        public override bool Execute()
        {
            var units = PlanUnits();
            if (units == null)
            {
                return false;
            }

            var commonArguments = BuildCommonArguments();
            string compilerStamp = File.Exists(CompilerPath) ? File.GetLastWriteTimeUtc(CompilerPath).Ticks.ToString() : "";
            string hash = PathUtil.Sha256Hex(string.Join("\n", new[] { CompilerPath, compilerStamp, Identity ?? "", CxxCompilerPath, CxxOptions }.Concat(commonArguments)));
            string? previousHash = File.Exists(HashFile) ? File.ReadAllText(HashFile).Trim() : null;
            bool flagsChanged = previousHash != hash;

            string recordFile = Path.GetFullPath(Path.Combine(ProjectDirectory, IntermediateDirectory, "objects.record"));
            var record = OutputRecord.Read(recordFile);
            var stale = units.Where(u => flagsChanged || !IsAsCompiled(u, record) || IsStale(u)).ToList();
            if (flagsChanged && previousHash != null)
            {
                Log.LogMessage(MessageImportance.Normal, "MicroTvmCompileC: the command line changed; recompiling all {0} sources.", units.Count);
            }
            if (flagsChanged && File.Exists(HashFile))
            {
                // Until every source compiled with the new flags, no hash on disk may claim they did.
                File.Delete(HashFile);
            }

            var failed = new HashSet<Unit>();
            bool success = Compile(stale, commonArguments, failed);
            if (!cancellation.IsCancellationRequested)
            {
                OutputRecord.Write(recordFile, units.Where(u => !failed.Contains(u)).Select(u => u.ObjectFile));
            }

            if (success && flagsChanged)
            {
                PathUtil.WriteIfDifferent(HashFile, hash + "\n");
            }
            if (!string.IsNullOrEmpty(CompileCommandsFile))
            {
                PathUtil.WriteIfDifferent(CompileCommandsFile!, CompilationDatabase(units, commonArguments, CompilerIncludeDirectories(commonArguments, hash)));
            }

            ObjectFiles = units.Select(u =>
            {
                var item = PathUtil.Item(u.ObjectFile);
                PathUtil.SetLiteral(item, "Source", u.Source);
                return (ITaskItem)item;
            }).ToArray();
            CompiledSources = stale.Select(u => (ITaskItem)PathUtil.Item(u.Source)).ToArray();
            FileWrites = units.SelectMany(u => OwnFlags(u) is null ? new[] { u.ObjectFile, u.DependencyFile } : new[] { u.ObjectFile, u.DependencyFile, u.OwnFlagsFile })
                .Concat(new[] { HashFile, recordFile })
                .Concat(string.IsNullOrEmpty(CompileCommandsFile) ? Array.Empty<string>() : new[] { CompileCommandsFile!, HashFile + ".includes" })
                .Select(p => (ITaskItem)PathUtil.Item(p)).ToArray();
            return success && !Log.HasLoggedErrors;
        }

        private List<Unit>? PlanUnits()
        {
            var units = new List<Unit>();
            var byObject = new Dictionary<string, Unit>(StringComparer.OrdinalIgnoreCase);
            foreach (var item in Sources)
            {
                string source = Path.GetFullPath(Path.Combine(ProjectDirectory, item.ItemSpec));
                if (!File.Exists(source))
                {
                    Log.LogError(null, ErrorCodes.SourceNotFound, ErrorCodes.HelpLink, BuildEngine.ProjectFileOfTaskNode, 0, 0, 0, 0,
                        "The C source '{0}' does not exist (listed as '{1}').", source, item.ItemSpec);
                    continue;
                }
                string objectFile = item.GetMetadata("ObjectFile");
                string? relative = PathUtil.RelativeInside(ProjectDirectory, source);
                if (string.IsNullOrEmpty(objectFile))
                {
                    string? generated = string.IsNullOrEmpty(GeneratedSourcesDirectory)
                        ? null
                        : PathUtil.RelativeInside(Path.Combine(ProjectDirectory, GeneratedSourcesDirectory), source);
                    string stem = generated != null
                        ? Path.Combine("generated", generated)
                        : relative ?? Path.Combine("external", Path.GetFileName(Path.GetDirectoryName(source)) ?? "", Path.GetFileName(source));
                    objectFile = Path.Combine(IntermediateDirectory, Path.ChangeExtension(stem, ".o"));
                }
                objectFile = Path.GetFullPath(Path.Combine(ProjectDirectory, objectFile));
                var unit = new Unit(item, source, objectFile) { Display = relative ?? source };
                if (byObject.TryGetValue(objectFile, out var clash))
                {
                    Log.LogError(null, ErrorCodes.SourceNotFound, ErrorCodes.HelpLink, BuildEngine.ProjectFileOfTaskNode, 0, 0, 0, 0,
                        "'{0}' and '{1}' would both compile to '{2}'; rename one or give it ObjectFile metadata.", clash.Source, source, objectFile);
                    continue;
                }
                byObject[objectFile] = unit;
                units.Add(unit);
            }
            return Log.HasLoggedErrors ? null : units;
        }

        private List<string> BuildCommonArguments()
        {
            var arguments = new List<string>();
            foreach (var option in Options.Split(';'))
            {
                arguments.AddRange(ProcessRunner.SplitFlags(option));
            }
            arguments.AddRange(Defines.Where(d => !string.IsNullOrWhiteSpace(d)).Select(d => "-D" + d.Trim()));
            arguments.AddRange(IncludeDirectories.Where(d => !string.IsNullOrWhiteSpace(d))
                .Select(d => "-I" + Path.GetFullPath(Path.Combine(ProjectDirectory, d.Trim()))));
            // Diagnostics as plain "file:line:col: kind: text" lines, which ParseDiagnostics reads.
            arguments.Add("-fdiagnostics-plain-output");
            arguments.Add("-fdiagnostics-color=never");
            return arguments;
        }

        private string CompilerOf(Unit unit) => unit.IsCxx && !string.IsNullOrEmpty(CxxCompilerPath) ? CxxCompilerPath : CompilerPath;

        private List<string> SourceArguments(Unit unit, List<string> commonArguments) =>
            new List<string>((unit.IsCxx ? commonArguments.Where(a => !a.StartsWith("-std=", StringComparison.Ordinal)).Concat(ProcessRunner.SplitFlags(CxxOptions)) : commonArguments)
                .Concat(unit.AdditionalArguments)) { "-MMD", "-MP", "-MF", unit.DependencyFile, "-c", unit.Source, "-o", unit.ObjectFile };

        /// <summary>
        /// compile_commands.json (clang.llvm.org/docs/JSONCompilationDatabase.html) from the same command lines, for
        /// clangd and IDEs: without -fdiagnostics-plain-output (the build's own output format, which clang does not
        /// know: clangd rejected the whole command) and with gcc's built-in include folders (newlib's stdio.h ...) as
        /// -isystem, which clang cannot find by itself for arm-none-eabi-gcc.
        /// </summary>
        private string CompilationDatabase(List<Unit> units, List<string> commonArguments, IReadOnlyList<string> systemIncludes)
        {
            var json = new System.Text.StringBuilder("[\n");
            for (int i = 0; i < units.Count; i++)
            {
                var unit = units[i];
                var arguments = new[] { CompilerOf(unit) }
                    .Concat(SourceArguments(unit, commonArguments).Where(a => a != "-fdiagnostics-plain-output"))
                    .Concat(systemIncludes.Select(d => "-isystem" + d))
                    .Select(JsonString);
                json.Append("  {\n    \"directory\": ").Append(JsonString(ProjectDirectory))
                    .Append(",\n    \"file\": ").Append(JsonString(unit.Source))
                    .Append(",\n    \"output\": ").Append(JsonString(unit.ObjectFile))
                    .Append(",\n    \"arguments\": [").Append(string.Join(", ", arguments)).Append("]\n  }")
                    .Append(i + 1 < units.Count ? ",\n" : "\n");
            }
            return json.Append("]\n").ToString();
        }

        /// <summary>
        /// gcc's own #include &lt;...&gt; folders for these flags ("gcc -E -Wp,-v"), kept beside the flags' hash so that a
        /// no-op build runs no tool; none if gcc cannot say.
        /// </summary>
        private IReadOnlyList<string> CompilerIncludeDirectories(List<string> commonArguments, string hash)
        {
            string cache = HashFile + ".includes";
            try
            {
                if (File.Exists(cache))
                {
                    var lines = File.ReadAllLines(cache);
                    if (lines.Length > 0 && lines[0] == hash)
                    {
                        return lines.Skip(1).ToList();
                    }
                }
                var output = ProcessRunner.Run(CompilerPath, commonArguments.Concat(new[] { "-E", "-Wp,-v", "-xc", "-" }).ToList(),
                    ProjectDirectory, cancellation.Token, timeout: TimeSpan.FromSeconds(60)).Output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
                int start = output.FindIndex(l => l.StartsWith("#include <...> search starts here:", StringComparison.Ordinal));
                var folders = start < 0 ? new List<string>() : output.Skip(start + 1)
                    .TakeWhile(l => l.StartsWith(" ", StringComparison.Ordinal))
                    .Select(l => Path.GetFullPath(l.Trim())).ToList();
                File.WriteAllLines(cache, new[] { hash }.Concat(folders));
                return folders;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is System.ComponentModel.Win32Exception)
            {
                Log.LogMessage(MessageImportance.Low, "MicroTvmCompileC: gcc's include folders unknown for compile_commands.json: {0}", e.Message);
                return Array.Empty<string>();
            }
        }

        internal static string JsonString(string text)
        {
            var builder = new System.Text.StringBuilder("\"");
            foreach (char c in text)
            {
                switch (c)
                {
                    case '"': builder.Append("\\\""); break;
                    case '\\': builder.Append("\\\\"); break;
                    case '\n': builder.Append("\\n"); break;
                    case '\r': builder.Append("\\r"); break;
                    case '\t': builder.Append("\\t"); break;
                    default:
                        if (c < ' ')
                        {
                            builder.Append("\\u").Append(((int)c).ToString("x4"));
                        }
                        else
                        {
                            builder.Append(c);
                        }
                        break;
                }
            }
            return builder.Append('"').ToString();
        }

        private bool IsAsCompiled(Unit unit, Dictionary<string, (long Size, long Ticks)> record)
        {
            if (OutputRecord.Matches(record, unit.ObjectFile))
            {
                return true;
            }
            if (File.Exists(unit.ObjectFile))
            {
                Log.LogMessage(MessageImportance.Normal, "MicroTvmCompileC: {0} is not the object gcc wrote for {1}; recompiling it.",
                    PathUtil.RelativeInside(ProjectDirectory, unit.ObjectFile) ?? unit.ObjectFile, unit.Display);
            }
            return false;
        }

        private bool IsStale(Unit unit)
        {
            if (!File.Exists(unit.ObjectFile) || !File.Exists(unit.DependencyFile))
            {
                return true;
            }
            if (OwnFlags(unit) != (File.Exists(unit.OwnFlagsFile) ? File.ReadAllText(unit.OwnFlagsFile) : null))
            {
                Log.LogMessage(MessageImportance.Low, "{0} is out of date: its own flags (AdditionalOptions) changed.", unit.Display);
                return true;
            }
            var objectTime = File.GetLastWriteTimeUtc(unit.ObjectFile);
            var prerequisites = DependencyFile.ParsePrerequisites(File.ReadAllText(unit.DependencyFile));
            if (prerequisites.Count == 0)
            {
                return true;
            }
            foreach (var prerequisite in prerequisites.Append(unit.Source))
            {
                string path = Path.GetFullPath(Path.Combine(ProjectDirectory, prerequisite));
                if (!File.Exists(path) || File.GetLastWriteTimeUtc(path) > objectTime)
                {
                    Log.LogMessage(MessageImportance.Low, "{0} is out of date: {1} changed.", unit.Display, path);
                    return true;
                }
            }
            Log.LogMessage(MessageImportance.Low, "{0} is up to date ({1} dependencies).", unit.Display, prerequisites.Count);
            return false;
        }

        /// <summary>The text kept in <see cref="Unit.OwnFlagsFile"/>; null for a source without own flags (no file).</summary>
        private static string? OwnFlags(Unit unit) => unit.AdditionalArguments.Count == 0 ? null : string.Join("\n", unit.AdditionalArguments) + "\n";

        /// <summary>After a successful compile: the source's own flags as compiled, so that changing them recompiles it alone.</summary>
        private static void RecordOwnFlags(Unit unit)
        {
            if (OwnFlags(unit) is { } flags)
            {
                PathUtil.WriteIfDifferent(unit.OwnFlagsFile, flags);
            }
            else
            {
                File.Delete(unit.OwnFlagsFile);
            }
        }

        private bool Compile(List<Unit> stale, List<string> commonArguments, HashSet<Unit> failed)
        {
            if (stale.Count == 0)
            {
                return true;
            }
            int parallelism = MaxParallelism > 0 ? MaxParallelism : Environment.ProcessorCount;
            using (var gate = new SemaphoreSlim(parallelism))
            {
                var jobs = new List<(Unit Unit, List<string> Arguments, System.Threading.Tasks.Task<ProcessResult> Run)>();
                foreach (var unit in stale)
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(unit.ObjectFile)!);
                    var arguments = SourceArguments(unit, commonArguments);
                    var run = System.Threading.Tasks.Task.Run(() =>
                    {
                        gate.Wait(cancellation.Token);
                        try
                        {
                            return ProcessRunner.Run(CompilerOf(unit), arguments, ProjectDirectory, cancellation.Token);
                        }
                        finally
                        {
                            gate.Release();
                        }
                    });
                    jobs.Add((unit, arguments, run));
                }

                bool success = true;
                foreach (var job in jobs)
                {
                    Log.LogMessage(MessageImportance.Normal, "MicroTvmCompileC: compiling {0}", job.Unit.Display);
                    Log.LogCommandLine(MessageImportance.Low, CompilerOf(job.Unit) + " " + ProcessRunner.JoinArguments(job.Arguments));
                    ProcessResult result;
                    try
                    {
                        result = job.Run.GetAwaiter().GetResult();
                    }
                    catch (OperationCanceledException)
                    {
                        return false;
                    }
                    if (result.Cancelled)
                    {
                        return false;
                    }
                    if (!ReportDiagnostics(job.Unit, result))
                    {
                        success = false;
                        failed.Add(job.Unit);
                    }
                    else
                    {
                        RecordOwnFlags(job.Unit);
                    }
                }
                return success;
            }
        }

        private bool ReportDiagnostics(Unit unit, ProcessResult result)
        {
            bool loggedError = false;
            foreach (var diagnostic in GccDiagnostics.Parse(result.Output))
            {
                string file = diagnostic.File != null ? Path.GetFullPath(Path.Combine(ProjectDirectory, diagnostic.File)) : unit.Source;
                if (diagnostic.Kind == DiagnosticKind.Warning)
                {
                    Log.LogWarning(null, diagnostic.Option ?? ErrorCodes.CompilerWarning, ErrorCodes.HelpLink, file,
                        diagnostic.Line, diagnostic.Column, 0, 0, "{0}", diagnostic.Message);
                }
                else
                {
                    Log.LogError(null, ErrorCodes.CompilerError, ErrorCodes.HelpLink, file,
                        diagnostic.Line, diagnostic.Column, 0, 0, "{0}", diagnostic.Message);
                    loggedError = true;
                }
            }
            if (result.ExitCode != 0 && !loggedError)
            {
                Log.LogError(null, ErrorCodes.CompilerFailed, ErrorCodes.HelpLink, unit.Source, 0, 0, 0, 0,
                    "gcc failed with exit code {0} compiling this file: {1}", result.ExitCode, result.Output.Trim());
                loggedError = true;
            }
            return result.ExitCode == 0 && !loggedError;
        }
    }
}
