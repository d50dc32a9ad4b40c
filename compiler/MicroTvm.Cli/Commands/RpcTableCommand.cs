using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Device;

namespace MicroTvm.Cli.Commands;

/// <summary>
/// <c>microtvm rpc-table --board B --cpu C -o rpc_models.c a.json b.json</c>: the model table an RPC server firmware
/// links (what <c>MicroTvmRpcServer=true</c> runs). The build id is a hash of the board, the CPU and the models' .json.
/// </summary>
public static class RpcTableCommand
{
    public static Command Create(CliConsole console)
    {
        var metadata = new Argument<string[]>("metadata") { Description = "The models' .json files (from microtvm compile).", Arity = ArgumentArity.ZeroOrMore };
        var board = new Option<string>("--board") { Description = "Board name reported by the handshake.", Required = true };
        var cpu = new Option<string>("--cpu") { Description = "CPU name reported by the handshake.", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "The C file to write.", Required = true };
        var command = new Command("rpc-table", "Write the RPC server's model table (rpc_models.c) for a firmware's models.") { metadata, board, cpu, output };
        command.SetAction(parse =>
        {
            string target = parse.GetValue(output)!;
            return console.Guard(target, () =>
            {
                var hash = new StringBuilder(parse.GetValue(board) + "\n" + parse.GetValue(cpu) + "\n");
                var models = new List<ModelMetadata>();
                foreach (var file in parse.GetValue(metadata) ?? Array.Empty<string>())
                {
                    string json;
                    try
                    {
                        json = File.ReadAllText(file);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        throw new CompilerException(ErrorCodes.InvalidInputData, $"cannot read the model metadata: {e.Message}") { File = file };
                    }

                    hash.Append(json);
                    models.Add(ModelMetadata.FromJson(json));
                }

                string buildId = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(hash.ToString())))[..16].ToLowerInvariant();
                string text = RpcModelTable.Generate(parse.GetValue(board)!, parse.GetValue(cpu)!, buildId, models);
                try
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
                    if (!File.Exists(target) || File.ReadAllText(target) != text)
                    {
                        File.WriteAllText(target + ".tmp", text);
                        File.Move(target + ".tmp", target, overwrite: true);
                    }
                    else
                    {
                        File.SetLastWriteTimeUtc(target, DateTime.UtcNow); // up to date for the build's Inputs/Outputs check
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new CompilerException(ErrorCodes.OutputUnwritable, $"cannot write the model table: {e.Message}") { File = target };
                }

                return 0;
            });
        });
        return command;
    }
}
