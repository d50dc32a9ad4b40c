using System.Text.Json;
using Microsoft.Build.Locator;

// microtvm-ide-probe <project.csproj> <target;target;...> <item;item;...>: restore, then the design-time build of those
// targets with the properties IDEs set; prints {"results": {target: "Success"|...}, "items": {name: [full paths]},
// "properties": {...}, "errors": [...]} on standard output.
if (args.Length != 3)
{
    Console.Error.WriteLine("usage: MicroTvm.Sdk.IdeProbe <project> <targets> <items>");
    return 2;
}
MSBuildLocator.RegisterDefaults();
return MicroTvm.Sdk.IdeProbe.DesignTimeBuild.Run(args[0], args[1].Split(';', StringSplitOptions.RemoveEmptyEntries), args[2].Split(';', StringSplitOptions.RemoveEmptyEntries));
