return Clearhouse.Cli.ClearhouseCli.Run(args, Console.Out, Console.Error);
