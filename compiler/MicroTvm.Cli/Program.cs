return MicroTvm.Cli.CliApp.Run(args, Console.Out, Console.Error);
