using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MicroTvm.Build.Tasks
{
    /// <summary>A compiled model's memory figures, from the compiler's &lt;name&gt;.json.</summary>
    internal sealed class ModelSize
    {
        public ModelSize(string name, string model, long weightsBytes, long workspaceBytes, bool ioInWorkspace, long stateBytes = 0, string? weightLayout = null)
        {
            WeightLayout = weightLayout;
            StateBytes = stateBytes;
            IoInWorkspace = ioInWorkspace;
            Name = name;
            Model = model;
            WeightsBytes = weightsBytes;
            WorkspaceBytes = workspaceBytes;
        }

        public string Name { get; }

        /// <summary>The model as the project lists it (MicroModel Include).</summary>
        public string Model { get; }

        /// <summary>Constant data: weights, folded biases, multipliers, tables (flash).</summary>
        public long WeightsBytes { get; }

        /// <summary>The caller-supplied workspace (RAM).</summary>
        public long WorkspaceBytes { get; }

        /// <summary>Bytes of the workspace that hold the model's state (variable tensors), kept between runs.</summary>
        public long StateBytes { get; }

        /// <summary>How the kernels with the choice store the weights ("int16", "int8"); null: no kernel has the choice.</summary>
        public string? WeightLayout { get; }

        /// <summary>The workspace holds the model's inputs and outputs too.</summary>
        public bool IoInWorkspace { get; }

        private static readonly Regex TopLevelNumber = new Regex(@"^  ""(?<key>weightsBytes|workspaceBytes|stateBytes)"": (?<value>\d+)", RegexOptions.Multiline | RegexOptions.Compiled);
        private static readonly Regex TopLevelLayout = new Regex(@"^  ""weightLayout"": ""(?<value>[^""]+)""", RegexOptions.Multiline | RegexOptions.Compiled);

        /// <summary>Reads the models' metadata files (items of MicroTvmResolveModels: MetadataFile, ModelName, SourceItem,
        /// IoInWorkspace); skips missing ones.</summary>
        public static List<ModelSize> Read(IEnumerable<ITaskItem> models)
        {
            var sizes = new List<ModelSize>();
            foreach (var model in models)
            {
                string file = model.GetMetadata("MetadataFile");
                if (!File.Exists(file))
                {
                    continue;
                }
                // Two top-level numbers of an indented JSON file the compiler writes; no JSON library on .NET Framework MSBuild.
                string text = File.ReadAllText(file);
                var values = TopLevelNumber.Matches(text).Cast<Match>()
                    .ToDictionary(m => m.Groups["key"].Value, m => long.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));
                values.TryGetValue("weightsBytes", out long weights);
                values.TryGetValue("workspaceBytes", out long workspace);
                values.TryGetValue("stateBytes", out long state);
                sizes.Add(new ModelSize(model.GetMetadata("ModelName"), model.GetMetadata("SourceItem"), weights, workspace,
                    MicroTvmResolveModels.IsIoInWorkspace(model), state, TopLevelLayout.Match(text) is { Success: true } layout ? layout.Groups["value"].Value : null));
            }
            return sizes;
        }

        public string Describe() => string.Format(CultureInfo.InvariantCulture,
            "model {0} ({1}): weights {2:N0} bytes (flash), workspace {3:N0} bytes (RAM{4}{5})", Name, Model, WeightsBytes, WorkspaceBytes,
            IoInWorkspace ? ", inputs and outputs inside" : "",
            StateBytes > 0 ? string.Format(CultureInfo.InvariantCulture, ", {0:N0} of them state", StateBytes) : "");
    }

    /// <summary>
    /// The size report's line per model: what of it is in the linked image (its object's bytes in flash and RAM, from the
    /// .map: a model nothing calls is dropped by --gc-sections and counts nothing), the workspace its plan needs, and
    /// the picture of that plan.
    /// </summary>
    public sealed class MicroTvmReportModelSizes : Task
    {
        /// <summary>Items from <see cref="MicroTvmResolveModels"/>.</summary>
        public ITaskItem[] Models { get; set; } = Array.Empty<ITaskItem>();

        public string? ElfFile { get; set; }

        public string? MapFile { get; set; }

        /// <summary>MicroTvmObjectFile items (metadata Source): which object is each model's.</summary>
        public ITaskItem[] ObjectFiles { get; set; } = Array.Empty<ITaskItem>();

        public string ProjectDirectory { get; set; } = "";

        /// <summary>The auto weight-layout decision (<see cref="WeightLayoutChoice"/>) and its key: why a model got its layout.</summary>
        public string? WeightLayoutFile { get; set; }

        public string WeightLayoutKey { get; set; } = "";

        public override bool Execute()
        {
            Dictionary<string, (ulong Rom, ulong Ram)>? byFile = null;
            if (!string.IsNullOrEmpty(ElfFile) && File.Exists(ElfFile) && !string.IsNullOrEmpty(MapFile) && File.Exists(MapFile))
            {
                try
                {
                    byFile = LinkedImage.Read(ElfFile!, MapFile!, withSymbols: false).BytesByFile()
                        .ToDictionary(f => LinkedImage.FullPathOf(f.Key), f => f.Value, StringComparer.Ordinal);
                }
                catch (Exception e) when (DamagedFirmware.IsReadError(e))
                {
                    byFile = null; // MicroTvmReportSize has said so with MTVM3110
                }
            }
            var objectOf = LinkedImage.SourcesOfObjects(ObjectFiles).ToDictionary(o => Path.GetFullPath(o.Value), o => o.Key, StringComparer.Ordinal);
            var models = Models.ToDictionary(m => m.GetMetadata("ModelName"), StringComparer.Ordinal);
            foreach (var size in ModelSize.Read(Models))
            {
                var model = models[size.Name];
                string plan = model.GetMetadata("PlanFile");
                string planText = File.Exists(plan) ? "; memory plan " + (PathUtil.RelativeInside(ProjectDirectory, plan) ?? plan) : "";
                if (byFile == null || !objectOf.TryGetValue(Path.GetFullPath(model.GetMetadata("SourceFile")), out string? objectFile))
                {
                    Log.LogMessage(MessageImportance.High, "  {0}{1}", size.Describe(), planText);
                    continue;
                }
                if (!byFile.TryGetValue(objectFile, out var linked) || linked.Rom + linked.Ram == 0)
                {
                    Log.LogMessage(MessageImportance.High,
                        "  model {0} ({1}): not in the image (nothing calls {0}_run, so the linker dropped it): 0 bytes flash, 0 bytes RAM{2}",
                        size.Name, size.Model, planText);
                    continue;
                }
                Log.LogMessage(MessageImportance.High, string.Format(CultureInfo.InvariantCulture,
                    "  model {0} ({1}): {2:N0} bytes flash in the image (code and constants; weights {3:N0}){4}, workspace {5:N0} bytes (RAM{6}{7}){8}{9}",
                    size.Name, size.Model, linked.Rom, size.WeightsBytes,
                    linked.Ram > 0 ? string.Format(CultureInfo.InvariantCulture, ", {0:N0} bytes of static RAM", linked.Ram) : "",
                    size.WorkspaceBytes, size.IoInWorkspace ? ", inputs and outputs inside" : "",
                    size.StateBytes > 0 ? string.Format(CultureInfo.InvariantCulture, ", {0:N0} of them state", size.StateBytes) : "", planText,
                    WeightLayoutChoice.Describe(model, size.WeightLayout, WeightLayoutFile, WeightLayoutKey) is string layout ? "; weights " + layout : ""));
            }
            return true;
        }
    }
}
