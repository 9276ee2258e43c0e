process.stdout.write('ood-lens\n');
