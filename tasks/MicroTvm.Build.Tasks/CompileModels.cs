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
    /// Compiles TFLite models to C with the MicroTvm compiler: in-process on the dotnet CLI's MSBuild, or by
    /// running the packaged <c>microtvm compile</c> (<see cref="CliAssembly"/>) where the compiler cannot load
    /// (Visual Studio's .NET Framework MSBuild). Everything else is shared. The compiler writes a file only when
    /// its content changes; the model's stamp file is written after a success and removed before each attempt, so
    /// a failed model is retried by the next build and never leaves generated files behind.
    /// </summary>
    public sealed class MicroTvmCompileModels : Task, ICancelableTask
    {
        private readonly CancellationTokenSource cancellation = new CancellationTokenSource();

        /// <summary>Items from <see cref="MicroTvmResolveModels"/>.</summary>
        [Required]
        public ITaskItem[] Models { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>The packed microtvm.dll, run as <c>dotnet microtvm.dll compile</c> when <see cref="UseCli"/> is set
        /// or this task was built for .NET Framework's MSBuild (which cannot load the net8.0 compiler).</summary>
        public string? CliAssembly { get; set; }

        public bool UseCli { get; set; }

        /// <summary>The dotnet host that runs <see cref="CliAssembly"/>.</summary>
        public string? DotNetHost { get; set; }

        [Required]
        public string ProjectDirectory { get; set; } = "";

        /// <summary>The project, which a missing custom operator's message tells to add a MicroModelOperator item to.</summary>
        public string ProjectFile { get; set; } = "";

        public void Cancel() => cancellation.Cancel();

        public override bool Execute()
        {
            bool success = true;
            foreach (var model in Models)
            {
                success &= CompileOne(model);
                if (cancellation.IsCancellationRequested)
                {
                    return false;
                }
            }
            return success && !Log.HasLoggedErrors;
        }

        private bool CompileOne(ITaskItem model)
        {
            string path = model.ItemSpec;
            string name = model.GetMetadata("ModelName");
            string target = model.GetMetadata("ModelTarget");
            bool ioInWorkspace = MicroTvmResolveModels.IsIoInWorkspace(model);
            string tuningLog = model.GetMetadata("ModelTuningLog");
            string gccFlags = model.GetMetadata("ModelGccFlags");
            bool compact = model.GetMetadata("EffectiveWeightLayout") == WeightLayoutChoice.Size;
            string[] customOperators = model.GetMetadata("ModelCustomOperators").Split(new[] { '|' }, StringSplitOptions.RemoveEmptyEntries);
            string directory = model.GetMetadata("OutputDirectory");
            string stamp = model.GetMetadata("StampFile");
            string shown = PathUtil.RelativeInside(ProjectDirectory, path) ?? path;

            File.Delete(stamp);
            bool useCli = UseCli || !CanRunInProcess;
            Log.LogMessage(MessageImportance.Normal, "MicroTvmCompileModels: compiling {0} for {1} -> {2} ({3})",
                shown, target, PathUtil.RelativeInside(ProjectDirectory, directory) ?? directory, useCli ? "microtvm tool" : "in-process");

            bool compiled = useCli
                ? CompileWithCli(path, target, name, ioInWorkspace, tuningLog, gccFlags, customOperators, directory, compact)
                : CompileInProcess(path, target, name, ioInWorkspace, tuningLog, gccFlags, customOperators, directory, compact);
            if (!compiled)
            {
                // No stale C of an earlier version stays to be compiled or included by mistake.
                foreach (var file in new[] { "SourceFile", "HeaderFile", "MetadataFile", "PlanFile" })
                {
                    File.Delete(model.GetMetadata(file));
                }
                return false;
            }
            // The stamp records the generated files as written: one deleted or edited later regenerates the model.
            OutputRecord.Write(stamp, new[] { "SourceFile", "HeaderFile", "MetadataFile" }.Select(model.GetMetadata));
            return true;
        }

#if NETSTANDARD
        private const bool CanRunInProcess = false;

        private bool CompileInProcess(string path, string target, string name, bool ioInWorkspace, string tuningLog, string gccFlags, string[] customOperators, string directory, bool compact) => false;
#else
        private const bool CanRunInProcess = true;

        private bool CompileInProcess(string path, string target, string name, bool ioInWorkspace, string tuningLog, string gccFlags, string[] customOperators, string directory, bool compact)
        {
            try
            {
                var custom = new MicroTvm.Compiler.Ir.CustomOperators(customOperators.Select(MicroTvm.Compiler.Ir.CustomOperator.Parse), ProjectFile.Length > 0 ? ProjectFile : null);
                var graph = MicroTvm.Compiler.Tflite.TfliteImporter.Load(path, custom);
                var log = tuningLog.Length > 0 ? MicroTvm.Compiler.Tuning.TuningLog.Load(tuningLog) : null;
                var generated = MicroTvm.Compiler.Codegen.ModelCompiler.Compile(graph, new MicroTvm.Compiler.Codegen.CompileOptions(target, name, IoInWorkspace: ioInWorkspace, Tuning: log, GccFlags: gccFlags.Length > 0 ? gccFlags : null,
                    WeightLayout: compact ? MicroTvm.Compiler.Tuning.WeightLayout.Size : MicroTvm.Compiler.Tuning.WeightLayout.Speed));
                foreach (var warning in generated.Warnings)
                {
                    LogCompilerWarning(warning.Code, warning.File ?? path, warning.Message);
                }
                generated.WriteTo(directory);
                return true;
            }
            catch (MicroTvm.Compiler.Diagnostics.CompilerException e)
            {
                foreach (var error in e.All)
                {
                    LogCompilerError(error.Code, error.File ?? path, error.Message);
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                LogCompilerError(MicroTvm.Compiler.Diagnostics.ErrorCodes.OutputUnwritable, directory, "cannot write the generated files: " + e.Message);
            }
            catch (Exception e) when (!(e is OperationCanceledException))
            {
                LogCompilerError(MicroTvm.Compiler.Diagnostics.ErrorCodes.InternalError, path,
                    $"internal compiler error ({e.GetType().Name}: {e.Message}); please report it with the model");
            }
            return false;
        }
#endif

        private bool CompileWithCli(string path, string target, string name, bool ioInWorkspace, string tuningLog, string gccFlags, string[] customOperators, string directory, bool compact)
        {
            if (string.IsNullOrEmpty(CliAssembly) || !File.Exists(CliAssembly))
            {
                Log.LogError(null, ErrorCodes.ModelCompilerUnavailable, ErrorCodes.HelpLink, path, 0, 0, 0, 0,
                    "The model compiler tool '{0}' does not exist; the SDK package is incomplete.", CliAssembly);
                return false;
            }
            // Errors come back as JSON lines in a file of their own, never parsed from the tool's text output, where a
            // newline in a tensor name could forge a second error line.
            string diagnosticsFile = Path.Combine(directory, name + ".diagnostics.jsonl");
            Directory.CreateDirectory(directory);
            File.Delete(diagnosticsFile);
            var arguments = new List<string> { CliAssembly!, "compile", path, "--target", target, "--name", name, "--output", directory, "--diagnostics-file", diagnosticsFile };
            if (ioInWorkspace)
            {
                arguments.Add("--io-in-workspace");
            }
            if (tuningLog.Length > 0)
            {
                arguments.Add("--tuning-log");
                arguments.Add(tuningLog);
            }
            if (compact)
            {
                arguments.Add("--weight-layout");
                arguments.Add(WeightLayoutChoice.Size);
            }
            if (gccFlags.Length > 0)
            {
                arguments.Add("--gcc-flags=" + gccFlags);
            }
            foreach (var op in customOperators)
            {
                arguments.Add("--custom-op");
                arguments.Add(op);
            }
            if (ProjectFile.Length > 0)
            {
                arguments.Add("--project-file");
                arguments.Add(ProjectFile);
            }
            string host = string.IsNullOrEmpty(DotNetHost) ? "dotnet" : DotNetHost!;
            Log.LogCommandLine(MessageImportance.Low, host + " " + ProcessRunner.JoinArguments(arguments));
            ProcessResult result;
            try
            {
                result = ProcessRunner.Run(host, arguments, ProjectDirectory, cancellation.Token);
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception || e is IOException)
            {
                Log.LogError(null, ErrorCodes.ModelCompilerUnavailable, ErrorCodes.HelpLink, path, 0, 0, 0, 0,
                    "Cannot run the model compiler '{0} {1}': {2}", host, CliAssembly, e.Message);
                return false;
            }
            if (result.Cancelled)
            {
                return false;
            }
            var diagnostics = File.Exists(diagnosticsFile) ? CompilerDiagnostics.Parse(File.ReadAllText(diagnosticsFile)) : new List<CompilerDiagnostic>();
            File.Delete(diagnosticsFile);
            foreach (var warning in diagnostics.Where(d => d.IsWarning))
            {
                LogCompilerWarning(warning.Code, warning.File ?? path, warning.Message);
            }
            diagnostics.RemoveAll(d => d.IsWarning);
            if (result.ExitCode == 0)
            {
                Log.LogMessage(MessageImportance.Low, "{0}", result.Output.Trim());
                return true;
            }
            foreach (var diagnostic in diagnostics)
            {
                LogCompilerError(diagnostic.Code, diagnostic.File ?? path, diagnostic.Message);
            }
            if (diagnostics.Count == 0)
            {
                Log.LogError(null, ErrorCodes.ModelCompilerUnavailable, ErrorCodes.HelpLink, path, 0, 0, 0, 0,
                    "The model compiler '{0} {1}' failed with exit code {2}: {3}", host, CliAssembly, result.ExitCode,
                    CompilerDiagnostics.EscapeControlCharacters(result.Output.Trim()));
            }
            return false;
        }

        /// <summary>One format for both ways of running the compiler: its code, the model file, its message
        /// (which names the operator index and kind when the problem belongs to an operator). Names from the model
        /// inside the message keep their control characters escaped: one error is one line.</summary>
        private void LogCompilerWarning(string code, string file, string message) => LogOnce(warning: true, code, file, message);

        private void LogCompilerError(string code, string file, string message) => LogOnce(warning: false, code, file, message);

        /// <summary>Diagnostics already logged in this call: a problem of a file several models share (a tuning log) is
        /// reported once, not once per model.</summary>
        private readonly HashSet<string> loggedDiagnostics = new HashSet<string>(StringComparer.Ordinal);

        private void LogOnce(bool warning, string code, string file, string message)
        {
            string fullPath = Path.GetFullPath(Path.Combine(ProjectDirectory, file));
            if (!loggedDiagnostics.Add((warning ? "warning\n" : "error\n") + code + "\n" + fullPath + "\n" + message))
            {
                return;
            }
            string text = CompilerDiagnostics.EscapeControlCharacters(message);
            if (warning)
            {
                Log.LogWarning(null, code, ErrorCodes.HelpLink, fullPath, 0, 0, 0, 0, "{0}", text);
            }
            else
            {
                Log.LogError(null, code, ErrorCodes.HelpLink, fullPath, 0, 0, 0, 0, "{0}", text);
            }
        }
    }
}
