"""Record the operator attributes MXNet 1.9.1 writes into the graphs of its model zoo.

Run with MXNet's own interpreter (never the project's environment), from the repository root:
    /tmp/mx/bin/python tools/mxnet_zoo_graph_attributes.py \
        tests/data/mxnet_zoo_graph_attributes.json
(see tools/mxnet_reference.py for installing it). tests/test_mxnet_graph_attributes.py loads
one-node graphs of each recorded operator and attribute set.

Each network is traced on a symbol (its weights are not needed) and every distinct attribute
dictionary of each operator is kept, as MXNet's JSON writes it.
"""
import json
import sys

NETWORKS = ["alexnet", "densenet121", "inceptionv3", "mobilenet1.0", "mobilenet0.25",
            "mobilenetv2_1.0", "mobilenetv2_0.25", "resnet18_v1", "resnet18_v2", "resnet50_v1",
            "resnet50_v2", "squeezenet1.0", "squeezenet1.1", "vgg11", "vgg11_bn"]


def main(path):
    import mxnet as mx
    from mxnet.gluon.model_zoo import vision
    seen = {}
    for name in NETWORKS:
        net = vision.get_model(name)
        graph = json.loads(net(mx.sym.var("data")).tojson())
        for node in graph["nodes"]:
            if node["op"] != "null":
                seen.setdefault(node["op"], set()).add(
                    json.dumps(node.get("attrs", {}), sort_keys=True))
    reference = {"mxnet_version": mx.__version__, "networks": NETWORKS,
                 "attributes": {op: [json.loads(text) for text in sorted(texts)]
                                for op, texts in sorted(seen.items())}}
    with open(path, "w") as stream:
        json.dump(reference, stream, indent=0, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
