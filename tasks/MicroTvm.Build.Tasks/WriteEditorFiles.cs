using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MicroTvm.Build.Tasks
{
    /// <summary>
    /// Writes the editor files of a firmware project: <c>.vscode/launch.json</c> (a cppdbg and a cortex-debug
    /// configuration, both gdb-multiarch against the gdb server -t:Debug starts on <see cref="DebugPort"/>) and
    /// <c>.clangd</c> (clangd reads the build's compile_commands.json). A file is written only where it is absent or
    /// still carries the SDK's marker line, and only when its content changes: a file the user edited (marker removed)
    /// is never touched.
    /// </summary>
    public sealed class MicroTvmWriteEditorFiles : Task
    {
        private const string Marker = "Written by MicroTvm.Sdk";

        [Required]
        public string ProjectDirectory { get; set; } = "";

        [Required]
        public string ProjectName { get; set; } = "";

        public string? Board { get; set; }

        [Required]
        public string FirmwareFile { get; set; } = "";

        public string? CompileCommandsFile { get; set; }

        public int DebugPort { get; set; } = 1234;

        public string GdbPath { get; set; } = "gdb-multiarch";

        public override bool Execute()
        {
            string elf = WorkspacePath(FirmwareFile);
            string server = "localhost:" + DebugPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string name = $"{ProjectName} ({Board}, dotnet build -t:Debug)";
            var launch = new StringBuilder();
            launch.Append("// ").Append(Marker).Append(" (dotnet build -t:EditorFiles or -t:Debug); delete this line to keep your edits.\n");
            launch.Append("// Start the gdb server first: 'dotnet build -t:Debug' in a terminal, then F5.\n");
            launch.Append("{\n  \"version\": \"0.2.0\",\n  \"configurations\": [\n");
            launch.Append("    {\n");
            launch.Append("      \"name\": ").Append(Json(name + " cppdbg")).Append(",\n");
            launch.Append("      \"type\": \"cppdbg\",\n      \"request\": \"launch\",\n");
            launch.Append("      \"program\": ").Append(Json(elf)).Append(",\n");
            launch.Append("      \"cwd\": \"${workspaceFolder}\",\n      \"MIMode\": \"gdb\",\n");
            launch.Append("      \"miDebuggerPath\": ").Append(Json(GdbPath)).Append(",\n");
            launch.Append("      \"miDebuggerServerAddress\": ").Append(Json(server)).Append(",\n");
            launch.Append("      \"stopAtEntry\": true\n    },\n");
            launch.Append("    {\n");
            launch.Append("      \"name\": ").Append(Json(name + " cortex-debug")).Append(",\n");
            launch.Append("      \"type\": \"cortex-debug\",\n      \"request\": \"attach\",\n      \"servertype\": \"external\",\n");
            launch.Append("      \"gdbTarget\": ").Append(Json(server)).Append(",\n");
            launch.Append("      \"gdbPath\": ").Append(Json(GdbPath)).Append(",\n");
            launch.Append("      \"executable\": ").Append(Json(elf)).Append(",\n");
            launch.Append("      \"cwd\": \"${workspaceFolder}\"\n    }\n  ]\n}\n");
            Write(Path.Combine(ProjectDirectory, ".vscode", "launch.json"), launch.ToString());

            if (!string.IsNullOrEmpty(CompileCommandsFile))
            {
                string folder = Path.GetDirectoryName(Path.GetFullPath(Path.Combine(ProjectDirectory, CompileCommandsFile)))!;
                string relative = (PathUtil.RelativeInside(ProjectDirectory, folder) ?? folder).Replace('\\', '/');
                Write(Path.Combine(ProjectDirectory, ".clangd"),
                    $"# {Marker} (dotnet build -t:EditorFiles or -t:Debug); delete this line to keep your edits.\n" +
                    "# clangd reads the compile commands of the last build (arm-none-eabi-gcc's flags and include folders).\n" +
                    $"CompileFlags:\n  CompilationDatabase: {Yaml(relative)}\n");
            }
            return true;
        }

        private string WorkspacePath(string file)
        {
            string full = Path.GetFullPath(Path.Combine(ProjectDirectory, file));
            string? relative = PathUtil.RelativeInside(ProjectDirectory, full);
            return relative == null ? full : "${workspaceFolder}/" + relative.Replace('\\', '/');
        }

        private void Write(string path, string content)
        {
            if (File.Exists(path))
            {
                string existing = File.ReadAllText(path);
                if (existing.IndexOf(Marker, StringComparison.Ordinal) < 0)
                {
                    Log.LogMessage(MessageImportance.Normal, "{0} was edited (no '{1}' line): left as it is.", path, Marker);
                    return;
                }
                if (existing == content)
                {
                    return;
                }
            }
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, content);
            Log.LogMessage(MessageImportance.High, "Wrote {0}", path);
        }

        private static string Json(string text) => MicroTvmCompileC.JsonString(text);

        /// <summary>A YAML double-quoted scalar (its escapes are JSON's).</summary>
        private static string Yaml(string text) => Json(text);
    }
}
